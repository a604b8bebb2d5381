"""Training and prediction shared by MLPClassifier and MLPRegressor."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from ._epoch_monitor import EpochMonitor, TrainingHistory
from ._mlp import MLP
from ._parameters import (
    BOOLEAN,
    CallableValue,
    Infinity,
    InstanceOf,
    Interval,
    InvalidParameterError,
    NoneValue,
    PositiveIntSequence,
    StrOptions,
    check_parameter,
)
from ._validation import MAX_COUNT, MAX_THREADS

# Allowed values of every constructor parameter, in scikit-learn's terms. The
# options scikit-learn has but fastmlp does not implement yet are accepted here
# and rejected by _check_supported with a message that names the alternative.
PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": [Interval(Integral, 1, None, "left"), PositiveIntSequence()],
    "activation": [StrOptions("identity", "logistic", "tanh", "relu")],
    "solver": [StrOptions("lbfgs", "sgd", "adam")],
    "alpha": [Interval(Real, 0, None, "left")],
    "batch_size": [StrOptions("auto"), Interval(Integral, 1, None, "left")],
    "learning_rate": [StrOptions("constant", "invscaling", "adaptive")],
    "learning_rate_init": [Interval(Real, 0, None, "neither")],
    "power_t": [Interval(Real, 0, None, "left")],
    # max_iter is passed to MLP.fit as epochs, which accepts at most MAX_COUNT.
    "max_iter": [Interval(Integral, 1, MAX_COUNT, "both")],
    "shuffle": BOOLEAN,
    "random_state": [
        Interval(Integral, 0, 2**32 - 1, "both"),
        InstanceOf(np.random.RandomState, "numpy.random.RandomState"),
        NoneValue(),
    ],
    "tol": [Interval(Real, 0, None, "left")],
    "verbose": [Interval(Integral, 0, None, "left"), *BOOLEAN, CallableValue()],
    "warm_start": BOOLEAN,
    # The core requires momentum < 1 (scikit-learn allows 1, which never decays).
    "momentum": [Interval(Real, 0, 1, "left")],
    "nesterovs_momentum": BOOLEAN,
    "early_stopping": BOOLEAN,
    "validation_fraction": [Interval(Real, 0, 1, "left")],
    "beta_1": [Interval(Real, 0, 1, "left")],
    "beta_2": [Interval(Real, 0, 1, "left")],
    "epsilon": [Interval(Real, 0, None, "neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, "left"), Infinity()],
    "max_fun": [Interval(Integral, 1, None, "left")],
    "l1": [Interval(Real, 0, None, "left")],
    "n_threads": [Interval(Integral, 1, MAX_THREADS, "both"), NoneValue()],
    "progress_bar": BOOLEAN,
}

# Parameter values scikit-learn accepts that fastmlp does not implement yet.
SUPPORTED_OPTIONS = {
    "solver": ("sgd",),
    "learning_rate": ("constant",),
}

# The default "auto" batch size is min(AUTO_BATCH_SIZE, n_samples), as in
# scikit-learn.
AUTO_BATCH_SIZE = 200

# Skipping scikit-learn's initial weight draws (see _validation_split) draws
# at most this many numbers at a time, which bounds the memory to 8 MiB.
SKIPPED_DRAWS_PER_CALL = 2**20


class BaseMLP(BaseEstimator):
    """Parameters, training loop and forward pass of the fastmlp estimators.

    Subclasses define ``__init__`` (which only stores its arguments) and the
    target handling: ``_prepare_targets`` turns y into the array ``MLP.fit``
    takes and names the output activation, ``_score_output`` computes the
    estimator's score from network outputs (for early stopping), and
    ``_report_loss`` may convert the loss ``MLP.fit`` reports into the loss
    the estimator reports.
    """

    # Subclasses with more parameters extend these two tables.
    _constraints = PARAMETER_CONSTRAINTS
    _supported_options = SUPPORTED_OPTIONS

    def _check_params(self):
        """Raise InvalidParameterError or ValueError for any invalid parameter."""
        estimator_name = type(self).__name__
        for name, constraints in self._constraints.items():
            check_parameter(estimator_name, name, getattr(self, name), constraints)
        self._check_dropout()
        self._check_supported()
        if self.early_stopping and self.validation_fraction == 0:
            raise ValueError(
                "early_stopping=True needs a validation set, but "
                f"validation_fraction={self.validation_fraction!r}. Set it in "
                "(0, 1), for example 0.1."
            )
        if self.progress_bar:
            _import_tqdm()  # raises ImportError before any work when tqdm is missing

    def _check_dropout(self):
        """Check that dropout is one probability or one per input and hidden layer."""
        n_dropped_layers = len(self._hidden_sizes()) + 1
        dropout = self.dropout
        if _is_probability(dropout):
            return
        is_sequence = not isinstance(dropout, str) and hasattr(dropout, "__len__")
        if (
            is_sequence
            and len(dropout) == n_dropped_layers
            and all(_is_probability(p) for p in dropout)
        ):
            return
        raise InvalidParameterError(
            f"The 'dropout' parameter of {type(self).__name__} must be a float in "
            f"the range [0.0, 1.0) or a sequence of {n_dropped_layers} such floats "
            f"(the input layer, then each hidden layer). Got {dropout!r} instead."
        )

    def _check_supported(self):
        """Reject scikit-learn options that fastmlp does not implement yet."""
        for name, supported in self._supported_options.items():
            value = getattr(self, name)
            if value not in supported:
                allowed = " or ".join(f"{name}={option!r}" for option in supported)
                raise ValueError(
                    f"{name}={value!r} is not implemented in fastmlp yet. "
                    f"Use {allowed}."
                )

    def _hidden_sizes(self):
        """Return hidden_layer_sizes as a list of ints."""
        sizes = self.hidden_layer_sizes
        if not hasattr(sizes, "__iter__"):
            sizes = [sizes]
        return [int(size) for size in sizes]

    def fit(self, X, y):
        """Train the network on X and y by stochastic gradient descent.

        With ``warm_start=False`` training starts from freshly initialised
        weights. With ``warm_start=True`` and a fitted model it continues from
        ``coefs_`` and ``intercepts_``, and the momentum restarts from zero, as
        in scikit-learn.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. On the first fit, float32 data trains in float32
            and any other real dtype in float64. Later warm-start fits and
            ``partial_fit`` keep that dtype.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values (class labels for the classifier).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(X, y, incremental=False)

    def _fit(self, X, y, incremental, classes=None):
        """Validate, train and store the fitted attributes; return self.

        ``incremental`` trains one epoch and keeps the momentum of the previous
        call (partial_fit). Nothing on self changes until training has
        succeeded, so a fit that raises leaves the estimator as it was.
        """
        self._check_params()
        if incremental and self.early_stopping:
            # scikit-learn rejects it too, because one call gets only part of
            # the data.
            raise ValueError(
                "partial_fit does not support early_stopping=True. Set "
                "early_stopping=False to train with partial_fit."
            )
        continuing = hasattr(self, "coefs_") and (incremental or self.warm_start)
        X_checked, y_checked, Y, targets = self._validate_training_data(
            X, y, continuing, classes
        )
        n_features = X_checked.shape[1]
        sizes = (n_features, *self._hidden_sizes(), targets["n_outputs_"])
        if continuing:
            self._check_same_layer_sizes(sizes)
            dtype = self.coefs_[0].dtype
        else:
            dtype = np.float32 if X_checked.dtype == np.float32 else np.float64

        X_train, Y_train, score_validation = X_checked, Y, None
        if self.early_stopping:
            X_train, Y_train, score_validation = self._hold_out_validation(
                X_checked, y_checked, Y, targets, sizes, continuing
            )

        net = self._training_network(
            sizes, targets["out_activation_"], dtype, continuing, incremental
        )
        n_samples = X_train.shape[0]
        batch_size = self._batch_size(n_samples)
        epochs = 1 if incremental else self.max_iter
        monitor = self._new_monitor(
            net, n_samples, batch_size, epochs, continuing, score_validation
        )
        with monitor:
            interrupted = self._run_sgd(
                net, X_train, Y_train, epochs, batch_size, monitor
            )

        if monitor.best_parameters is not None:
            # Early stopping keeps the weights of the best validation score.
            weights, biases = monitor.best_parameters
        else:
            weights, biases = net.weights, net.biases
        if not all(np.isfinite(array).all() for array in (*weights, *biases)):
            raise ValueError(
                "SGD produced non-finite weights. Lower learning_rate_init or "
                "scale X (for example with StandardScaler)."
            )
        if not continuing:
            validate_data(self, X, reset=True, skip_check_array=True)
        samples_seen = n_samples * monitor.n_iter
        if continuing:
            samples_seen += self.t_
        self._store_fitted(net, weights, biases, targets, monitor, samples_seen)

        finished = monitor.stopped or interrupted
        if not incremental and not finished and monitor.n_iter == self.max_iter:
            measure = "validation score" if self.early_stopping else "training loss"
            warnings.warn(
                f"SGD stopped at max_iter={self.max_iter} epochs while the {measure} "
                f"was still improving by at least tol={self.tol:g}. Raise "
                "max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _validate_training_data(self, X, y, continuing, classes):
        """Check X and y without changing self; return (X, y, Y, target attributes).

        X comes back as a C-ordered float32 or float64 array, y as checked
        (a column vector flattened to 1-D) and Y in the form MLP.fit takes.
        """
        X_checked, y = check_X_y(
            X,
            y,
            dtype=(np.float64, np.float32),
            order="C",
            multi_output=True,
            y_numeric=self._numeric_targets,
            estimator=self,
        )
        if continuing:
            # Check the feature count (and names) against the fitted model.
            validate_data(self, X, reset=False, skip_check_array=True)
        Y, targets = self._prepare_targets(y, continuing, classes)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        return X_checked, y, Y, targets

    def _hold_out_validation(self, X, y, Y, targets, sizes, continuing):
        """Split off the validation set; return (X_train, Y_train, score_validation).

        ``score_validation(net)`` returns the estimator's ``score`` of net's
        current weights on the validation set: accuracy for the classifier,
        R^2 for the regressor.
        """
        train_index, validation_index = self._validation_split(
            Y, targets, sizes, continuing
        )
        X_validation = X[validation_index]
        y_validation = y[validation_index]

        def score_validation(net):
            output = net.forward(X_validation)
            return self._score_output(output, y_validation, targets)

        return X[train_index], Y[train_index], score_validation

    def _validation_split(self, Y, targets, sizes, continuing):
        """Return the (training, validation) row indices for early stopping.

        The split equals scikit-learn's for the same int random_state.
        scikit-learn 1.9.1 splits with the RandomState that has just drawn a
        new model's initial weights, one uniform number per weight and bias,
        so those draws are skipped first. It stratifies binary classification
        only: multiclass targets are one-hot there, with several outputs.
        """
        random_state = check_random_state(self.random_state)
        if not continuing:
            _skip_initial_weight_draws(random_state, sizes)
        stratify = None
        if is_classifier(self) and targets["n_outputs_"] == 1:
            stratify = Y
        train_index, validation_index = train_test_split(
            np.arange(Y.shape[0]),
            test_size=self.validation_fraction,
            random_state=random_state,
            stratify=stratify,
        )
        if len(validation_index) < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' "
                "or the size of your dataset."
            )
        return train_index, validation_index

    def _check_same_layer_sizes(self, sizes):
        """Raise ValueError when continuing training would change a layer's size."""
        fitted = (*(coef.shape[0] for coef in self.coefs_), self.coefs_[-1].shape[1])
        if tuple(sizes) != fitted:
            raise ValueError(
                f"Cannot continue training with layer sizes {tuple(sizes)}: the "
                f"fitted model has {fitted}. Keep hidden_layer_sizes as fitted or "
                "set warm_start=False to start over."
            )

    def _training_network(self, sizes, output, dtype, continuing, incremental):
        """Return the MLP to train: the cached one, or a new one."""
        if incremental and continuing and self._cached_net_matches(sizes, output):
            net = self._net
        else:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            net = MLP(
                sizes,
                activation=self.activation,
                output=output,
                dtype=dtype,
                seed=int(seed),
                n_threads=self.n_threads,
            )
        if continuing:
            self._load_parameters(net)
        return net

    def _cached_net_matches(self, sizes, output):
        """Return True when self._net has this architecture and these settings."""
        net = getattr(self, "_net", None)
        return (
            net is not None
            and tuple(net.sizes) == tuple(sizes)
            and net.activation == self.activation
            and net.output == output
            and net.dtype == self.coefs_[0].dtype
            and net.n_threads == self.n_threads
        )

    def _load_parameters(self, net):
        """Copy coefs_ and intercepts_ into net (coefs_ is net.weights transposed)."""
        net.weights = [coef.T for coef in self.coefs_]
        net.biases = list(self.intercepts_)

    def _new_monitor(
        self, net, n_samples, batch_size, epochs, continuing, score_validation
    ):
        """Return the per-epoch callback, carrying over the history of earlier fits."""
        if continuing:
            history = self._history_to_continue()
        elif self.early_stopping:
            history = TrainingHistory(validation_scores=[])
        else:
            history = TrainingHistory()
        return EpochMonitor(
            net,
            self.tol,
            self.n_iter_no_change,
            history,
            verbose=self.verbose,
            score_validation=score_validation,
            report_loss=self._report_loss(net, n_samples, batch_size),
            progress_bar=_import_tqdm() if self.progress_bar else None,
            epochs=epochs,
        )

    def _history_to_continue(self):
        """Return the fitted model's history for a warm-start fit or partial_fit.

        The loss curve always continues. When early_stopping changed since
        the last fit, the record of the new criterion starts afresh, with no
        epochs without improvement (scikit-learn 1.9.1 fails with an
        AttributeError or TypeError there).
        """
        was_early_stopping = self.validation_scores_ is not None
        if self.early_stopping and was_early_stopping:
            return TrainingHistory(
                self.loss_curve_,
                validation_scores=self.validation_scores_,
                best_validation_score=self.best_validation_score_,
                no_improvement_count=self._no_improvement_count,
            )
        if self.early_stopping:
            return TrainingHistory(self.loss_curve_, validation_scores=[])
        if was_early_stopping:
            return TrainingHistory(self.loss_curve_)
        return TrainingHistory(
            self.loss_curve_,
            best_loss=self.best_loss_,
            no_improvement_count=self._no_improvement_count,
        )

    def _report_loss(self, net, n_samples, batch_size):
        """Return a map from an epoch's (loss, penalty) to the reported loss, or None.

        None (the default) reports MLP.fit's loss unchanged.
        """

    def _score_output(self, output, y, targets):
        """Return the estimator's score of the network outputs against targets y."""
        raise NotImplementedError

    def _batch_size(self, n_samples):
        """Return the batch size used for n_samples rows."""
        if self.batch_size == "auto":
            return min(AUTO_BATCH_SIZE, n_samples)
        if self.batch_size > n_samples:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the number of "
                f"samples ({n_samples}), so batch_size={n_samples} is used.",
                stacklevel=3,
            )
        return min(self.batch_size, n_samples)

    def _run_sgd(self, net, X, Y, epochs, batch_size, monitor):
        """Train net in one MLP.fit call; return True if Ctrl-C interrupted it."""
        try:
            net._fit(
                X,
                Y,
                epochs=epochs,
                batch_size=batch_size,
                learning_rate=self.learning_rate_init,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
                l1=self.l1,
                l2=self.alpha,
                dropout=self.dropout,
                shuffle=self.shuffle,
                epoch_end=monitor,
                penalty_scaling="batch",
            )
        except KeyboardInterrupt:
            warnings.warn(
                "Training was interrupted by Ctrl-C. The model keeps the weights "
                "of the last completed batch.",
                stacklevel=3,
            )
            return True
        except RuntimeError as error:
            # MLP.fit stops with a RuntimeError when the loss becomes NaN or inf.
            if "diverged" not in str(error):
                raise
            raise ValueError(
                "SGD diverged to a non-finite loss. Lower learning_rate_init or "
                f"scale X (for example with StandardScaler). Core message: {error}"
            ) from error
        return False

    def _store_fitted(self, net, weights, biases, targets, monitor, samples_seen):
        """Set the fitted attributes from the trained net and the epoch record."""
        for name, value in targets.items():
            setattr(self, name, value)
        # Writable C-ordered copies, as scikit-learn users may edit them in place.
        self.coefs_ = [np.array(w.T, order="C") for w in weights]
        self.intercepts_ = [np.array(b) for b in biases]
        self.n_layers_ = len(net.sizes)
        self.n_iter_ = monitor.n_iter
        self.t_ = samples_seen
        history = monitor.history
        self.loss_curve_ = history.loss_curve
        self.loss_ = history.loss_curve[-1] if history.loss_curve else math.nan
        if history.early_stopping:
            self.best_loss_ = None
            self.validation_scores_ = history.validation_scores
            self.best_validation_score_ = history.best_validation_score
        else:
            self.best_loss_ = history.best_loss
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self._no_improvement_count = history.no_improvement_count
        self._net = net

    def _forward(self, X):
        """Return the output activations for X after checking it."""
        check_is_fitted(self)
        dtype = self.coefs_[0].dtype
        X = validate_data(self, X, reset=False, dtype=dtype, order="C")
        sizes = (X.shape[1], *(coef.shape[1] for coef in self.coefs_))
        net = getattr(self, "_net", None)
        if not self._cached_net_matches(sizes, self.out_activation_):
            # The seed only sets initial weights, which are overwritten below.
            net = MLP(
                sizes,
                activation=self.activation,
                output=self.out_activation_,
                dtype=dtype,
                seed=0,
                n_threads=self.n_threads,
            )
            self._net = net
        # coefs_ and intercepts_ are the model (users may edit or replace them,
        # as in scikit-learn), so they are copied into the net on every call.
        self._load_parameters(net)
        return net.forward(X)

    def __getstate__(self):
        """Return the pickled state: the fitted attributes without the cached MLP."""
        # A copy, because on Python 3.11 and newer the inherited method returns
        # the instance's own __dict__.
        state = dict(super().__getstate__())
        state.pop("_net", None)
        return state

    def prune(
        self,
        X_val,
        y_val,
        method="obd",
        tolerance=0.01,
        step=0.05,
        X_train=None,
        y_train=None,
        retrain_epochs=0,
        **fit_options,
    ):
        """Remove the least salient weights while the validation error allows.

        Runs ``fastmlp.MLP.prune`` on the fitted network, see there for the
        steps, the saliencies and the error watched: the misclassification
        rate for the classifier, the squared error loss ``1/2 sum (y - y_hat)^2``
        averaged over samples for the regressor. Labels are encoded as
        ``fit`` encodes them, and ``coefs_`` and ``intercepts_`` are updated.
        Biases are never pruned.

        Retraining between steps uses this estimator's SGD settings:
        ``learning_rate_init``, ``momentum``, ``nesterovs_momentum``,
        ``alpha`` and ``l1`` scaled per batch, ``dropout``, ``shuffle`` and
        ``batch_size``. ``fit_options`` overrides them by their ``MLP.fit``
        names. Retraining does not extend ``loss_curve_``.

        The removed weights are recorded in the cached network that
        ``predict`` and ``partial_fit`` reuse, so that predictions use the
        sparse product and ``partial_fit`` keeps those weights at 0. A fit
        that builds a new network (``fit`` without ``warm_start``, a changed
        ``n_threads``, or an unpickled estimator) starts without them, and
        edits of ``coefs_`` at removed positions are replaced by 0 while that
        network is cached.

        Parameters
        ----------
        X_val : array-like of shape (n_samples, n_features)
        y_val : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Validation data with targets as for ``fit``.
        method : {"obd", "magnitude"}, default="obd"
        tolerance : float >= 0, default=0.01
            Largest allowed rise of the validation error.
        step : float in (0, 1], default=0.05
            Fraction of the remaining weights removed per step.
        X_train, y_train : array-like, optional
            Training data for the saliencies and for retraining.
        retrain_epochs : int >= 0, default=0
            Epochs of SGD on the training data after each step.
        **fit_options
            ``MLP.fit`` keyword arguments for retraining.

        Returns
        -------
        fastmlp.PruningReport
            Removed counts and fractions and the validation error per step.
        """
        check_is_fitted(self)
        self._check_params()
        if (X_train is None) != (y_train is None):
            given = "X_train" if y_train is None else "y_train"
            raise ValueError(
                f"prune got {given} alone; pass X_train and y_train together"
            )
        X_val, Y_val = self._pruning_data(X_val, y_val)
        if X_train is not None:
            X_train, y_train = self._pruning_data(X_train, y_train)
        sizes = (X_val.shape[1], *(coef.shape[1] for coef in self.coefs_))
        dtype = self.coefs_[0].dtype
        net = self._training_network(sizes, self.out_activation_, dtype, True, True)
        if retrain_epochs and X_train is not None:
            options = {
                "batch_size": self._batch_size(X_train.shape[0]),
                "learning_rate": self.learning_rate_init,
                "momentum": self.momentum,
                "nesterov": self.nesterovs_momentum,
                "l1": self.l1,
                "l2": self.alpha,
                "dropout": self.dropout,
                "shuffle": self.shuffle,
                "penalty_scaling": "batch",
            }
            fit_options = {**options, **fit_options}
        report = net.prune(
            X_val,
            Y_val,
            method=method,
            tolerance=tolerance,
            step=step,
            X_train=X_train,
            Y_train=y_train,
            retrain_epochs=retrain_epochs,
            **fit_options,
        )
        self.coefs_ = [np.array(W.T, order="C") for W in net.weights]
        self.intercepts_ = [np.array(b) for b in net.biases]
        self._net = net
        return report

    def _pruning_data(self, X, y):
        """Check X and y against the fitted model; return X and the net's targets."""
        validate_data(self, X, reset=False, skip_check_array=True)
        # Encoded as for a first fit with the fitted classes, because continuing
        # with warm_start would reject a set that lacks one of the classes.
        classes = getattr(self, "classes_", None)
        X, _, Y, _ = self._validate_training_data(X, y, False, classes)
        return X, Y


def _import_tqdm():
    """Return tqdm's progress bar class; raise ImportError when tqdm is missing."""
    try:
        from tqdm.auto import tqdm
    except ImportError as error:
        raise ImportError(
            "progress_bar=True needs the tqdm package, which is not installed. "
            "Install it with `pip install tqdm`, or set progress_bar=False."
        ) from error
    return tqdm


def _skip_initial_weight_draws(random_state, sizes):
    """Advance random_state past scikit-learn's draws of a new model's weights.

    scikit-learn draws every weight and bias with ``uniform``, which uses one
    double per number, as ``random_sample`` does.
    """
    n_draws = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes, sizes[1:]))
    while n_draws > 0:
        chunk = min(n_draws, SKIPPED_DRAWS_PER_CALL)
        random_state.random_sample(chunk)
        n_draws -= chunk


def _is_probability(value):
    """Return True for a real number in [0, 1)."""
    return Interval(Real, 0, 1, "left").accepts(value)
