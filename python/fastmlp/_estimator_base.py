"""Training and prediction shared by MLPClassifier and MLPRegressor."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, check_X_y, validate_data

from ._epoch_monitor import EpochMonitor
from ._mlp import MLP
from ._parameters import (
    BOOLEAN,
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
    "verbose": [Interval(Integral, 0, None, "left"), *BOOLEAN],
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
}

# Parameter values scikit-learn accepts that fastmlp does not implement yet.
SUPPORTED_OPTIONS = {
    "solver": ("sgd",),
    "learning_rate": ("constant",),
    "early_stopping": (False,),
}

# The default "auto" batch size is min(AUTO_BATCH_SIZE, n_samples), as in
# scikit-learn.
AUTO_BATCH_SIZE = 200


class BaseMLP(BaseEstimator):
    """Parameters, training loop and forward pass of the fastmlp estimators.

    Subclasses define ``__init__`` (which only stores its arguments) and the
    target handling: ``_prepare_targets`` turns y into the array ``MLP.fit``
    takes and names the output activation, and ``_report_loss`` may convert
    the loss ``MLP.fit`` reports into the loss the estimator reports.
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
        continuing = hasattr(self, "coefs_") and (incremental or self.warm_start)
        X_checked, Y, targets = self._validate_training_data(X, y, continuing, classes)
        n_samples, n_features = X_checked.shape
        sizes = (n_features, *self._hidden_sizes(), targets["n_outputs_"])
        if continuing:
            self._check_same_layer_sizes(sizes)
            dtype = self.coefs_[0].dtype
        else:
            dtype = np.float32 if X_checked.dtype == np.float32 else np.float64

        net = self._training_network(
            sizes, targets["out_activation_"], dtype, continuing, incremental
        )
        batch_size = self._batch_size(n_samples)
        monitor = self._new_monitor(net, n_samples, batch_size, continuing)
        epochs = 1 if incremental else self.max_iter
        interrupted = self._run_sgd(net, X_checked, Y, epochs, batch_size, monitor)

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
            warnings.warn(
                f"SGD stopped at max_iter={self.max_iter} epochs while the training "
                f"loss was still improving by at least tol={self.tol:g}. Raise "
                "max_iter or tol.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _validate_training_data(self, X, y, continuing, classes):
        """Check X and y without changing self; return (X, Y, target attributes).

        X comes back as a C-ordered float32 or float64 array, Y in the form
        MLP.fit takes.
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
        return X_checked, Y, targets

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

    def _new_monitor(self, net, n_samples, batch_size, continuing):
        """Return the per-epoch callback, carrying over the state of earlier fits."""
        report_loss = self._report_loss(net, n_samples, batch_size)
        if not continuing:
            return EpochMonitor(
                self.tol,
                self.n_iter_no_change,
                self.verbose,
                [],
                report_loss=report_loss,
            )
        return EpochMonitor(
            self.tol,
            self.n_iter_no_change,
            self.verbose,
            loss_curve=self.loss_curve_,
            best_loss=self.best_loss_,
            no_improvement_count=self._no_improvement_count,
            report_loss=report_loss,
        )

    def _report_loss(self, net, n_samples, batch_size):
        """Return a map from an epoch's (loss, penalty) to the reported loss, or None.

        None (the default) reports MLP.fit's loss unchanged.
        """

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
        self.loss_curve_ = monitor.loss_curve
        self.loss_ = monitor.loss_curve[-1] if monitor.loss_curve else math.nan
        self.best_loss_ = monitor.best_loss
        self._no_improvement_count = monitor.no_improvement_count
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
        state = super().__getstate__()
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
        X, Y, _ = self._validate_training_data(X, y, False, classes)
        return X, Y


def _is_probability(value):
    """Return True for a real number in [0, 1)."""
    return Interval(Real, 0, 1, "left").accepts(value)
