"""fastmlp.MLP: the low-level network, backed by the compiled core."""

import inspect
import os
import zipfile
import zlib

import numpy as np

from . import _core
from ._lbfgs import fit_lbfgs, penalty_divisor, weight_penalty
from ._pruning import check_weight_masks, prune_network
from ._validation import (
    as_matrix,
    as_parameter_list,
    as_sample_weight,
    as_targets,
    check_callback,
    check_dropout,
    check_fit_options,
    check_float,
    check_int,
    check_masks,
    check_n_threads,
    check_network_settings,
    check_path,
    check_scheduled_learning_rate,
)

# Version of the layout written by MLP.save. Version 1 files, written before
# RMSprop and Adam existed, load with those optimizers' state at zero.
SAVE_FORMAT_VERSION = 2
_READABLE_FORMAT_VERSIONS = (1, 2)
# Arrays of each layer in a saved model: file key prefix and name in messages.
_SAVED_PARAMETERS = {
    "W": "weights",
    "b": "biases",
    "vW": "weight_velocities",
    "vb": "bias_velocities",
}
# State arrays of each optimizer other than SGD, saved only once it has run.
_SAVED_OPTIMIZER_STATE = {
    "adam": {
        "adam_mW": "adam_weight_first_moments",
        "adam_mb": "adam_bias_first_moments",
        "adam_vW": "adam_weight_second_moments",
        "adam_vb": "adam_bias_second_moments",
    },
    "rmsprop": {
        "rmsprop_sW": "rmsprop_weight_mean_squares",
        "rmsprop_sb": "rmsprop_bias_mean_squares",
    },
}


class MLP:
    """A multilayer perceptron trained by minibatch SGD, RMSprop or Adam.

    Parameters
    ----------
    sizes : sequence of int
        Widths of every layer, input and output included, e.g. ``[64, 32, 10]``.
        Two entries make a network with no hidden layer.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers; "sigmoid" is accepted for "logistic".
    output : {"softmax", "logistic", "identity"}, default="softmax"
        Output layer, each paired with its loss: softmax with categorical
        cross-entropy, logistic with binary cross-entropy (binary or
        multilabel), identity with squared error ``1/2 (y - y_hat)^2``.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the parameters and of every computation.
    seed : int or None, default=None
        Seed of the counter-based generator behind initialisation, shuffling and
        dropout. None draws one from the operating system and stores it.
    n_threads : int or None, default=None
        Threads of each parallel region. None follows OpenMP's current maximum
        (``OMP_NUM_THREADS``, threadpoolctl limits), read at each call.

    Attributes
    ----------
    weights : list of ndarray
        ``weights[l]`` has shape ``(sizes[l+1], sizes[l])``. Reading returns
        read-only copies; assigning a whole list checks, converts and copies.
    biases : list of ndarray
        ``biases[l]`` has shape ``(sizes[l+1],)``; read and assigned like weights.
    weight_masks : list of ndarray of bool
        ``weight_masks[l]`` has the shape of ``weights[l]``: False marks a
        weight removed by pruning, which stays exactly 0. Read and assigned
        like weights.
    epoch : int
        Epochs trained so far. It keys the shuffling and dropout of the next
        epoch and persists across ``fit`` calls, like the optimizer state (SGD's
        velocities, RMSprop's mean squares, Adam's moments and step count), so
        ``fit(epochs=a)`` followed by ``fit(epochs=b)`` equals
        ``fit(epochs=a+b)``. Each optimizer keeps its own state, so a model may
        switch optimizer between ``fit`` calls, and switching back resumes
        from the state that optimizer left.

    Examples
    --------
    >>> import numpy as np, fastmlp
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([0, 1, 1, 0])
    >>> net = fastmlp.MLP([2, 8, 2], activation="tanh", seed=0)
    >>> history = net.fit(X, y, epochs=500, batch_size=4, learning_rate=0.5)
    >>> net.forward(X).argmax(axis=1)
    array([0, 1, 1, 0])
    """

    def __init__(
        self,
        sizes,
        activation="relu",
        output="softmax",
        dtype="float32",
        seed=None,
        n_threads=None,
    ):
        sizes, activation, output, dtype, seed, n_threads = check_network_settings(
            sizes, activation, output, dtype, seed, n_threads
        )
        self._sizes = sizes
        self._activation = activation
        self._output = output
        self._dtype = dtype
        self._seed = seed
        self._n_threads = n_threads
        core_class = _core.Network32 if dtype == np.float32 else _core.Network64
        try:
            self._core = core_class(list(sizes), activation, output, seed)
        except MemoryError:
            n_parameters = sum(
                (n_in + 1) * n_out for n_in, n_out in zip(sizes, sizes[1:])
            )
            size = n_parameters * dtype.itemsize / 2**30
            raise MemoryError(
                f"sizes={list(sizes)} needs {n_parameters:,} parameters "
                f"({size:.3g} GiB in {dtype.name}), more than could be allocated; "
                "use narrower layers"
            ) from None

    # Settings -------------------------------------------------------------------

    sizes = property(lambda self: self._sizes, doc="Widths of every layer.")
    activation = property(lambda self: self._activation, doc="Hidden activation.")
    output = property(lambda self: self._output, doc="Output layer and its loss.")
    dtype = property(lambda self: self._dtype, doc="NumPy dtype of the parameters.")
    seed = property(lambda self: self._seed, doc="Seed of the generator.")

    @property
    def n_threads(self):
        """Threads per parallel region; None follows OpenMP's maximum."""
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value):
        self._n_threads = check_n_threads(value)

    @property
    def epoch(self):
        """Epochs trained so far."""
        return self._core.epoch

    @property
    def n_layers(self):
        """Number of weight layers, ``len(sizes) - 1``."""
        return len(self._sizes) - 1

    def __repr__(self):
        return (
            f"MLP({list(self._sizes)}, activation={self._activation!r}, "
            f"output={self._output!r}, dtype={self._dtype.name!r}, seed={self._seed})"
        )

    # Parameters -----------------------------------------------------------------

    def _get(self, which):
        arrays = [self._core.get_parameter(l, which) for l in range(self.n_layers)]
        for a in arrays:
            a.flags.writeable = False
        return arrays

    def _set(self, which, arrays, name):
        shapes = [
            (self._sizes[l + 1], self._sizes[l])
            if which.endswith("W")
            else (self._sizes[l + 1],)
            for l in range(self.n_layers)
        ]
        converted = as_parameter_list(arrays, shapes, self._dtype, name)
        # Every layer is checked before any is written, so a bad list changes nothing.
        for l, a in enumerate(converted):
            self._core.set_parameter(l, which, a)

    @property
    def weights(self):
        """Read-only copies of W for each layer, shape ``(n_out, n_in)``."""
        return self._get("W")

    @weights.setter
    def weights(self, arrays):
        self._set("W", arrays, "weights")

    @property
    def biases(self):
        """Read-only copies of b for each layer, shape ``(n_out,)``."""
        return self._get("b")

    @biases.setter
    def biases(self, arrays):
        self._set("b", arrays, "biases")

    @property
    def weight_masks(self):
        """Read-only boolean keep-masks of the weights, one per layer.

        ``weight_masks[l]`` has the shape of ``weights[l]``, and False marks a
        removed weight. A removed weight is 0 and stays exactly 0, because
        training zeroes it and its momentum after every update. Assigning
        ``weights`` keeps the masks and replaces the values given for removed
        weights by 0. The mask wins, as in ``torch.nn.utils.prune``, whose
        forward pre-hook multiplies the mask into the weights before every
        forward pass. A layer without removed weights reads as all True.

        Assigning a list of boolean arrays replaces every layer's mask and
        zeroes the newly removed weights and their momentum. An all-True mask
        lifts a layer's pruning, so its removed weights train again from 0.

        ``forward`` multiplies by a layer that keeps few of its weights with a
        sparse matrix product. "Few" is at most the share
        ``fastmlp.config()[dtype]["sparse_max_density"]`` for batches of
        ``"sparse_block_rows"`` rows or more, and
        ``"sparse_max_density_small_batch"`` for smaller batches.
        """
        masks = [self._core.get_keep_mask(l) for l in range(self.n_layers)]
        for mask in masks:
            mask.flags.writeable = False
        return masks

    @weight_masks.setter
    def weight_masks(self, masks):
        shapes = [(self._sizes[l + 1], self._sizes[l]) for l in range(self.n_layers)]
        # Every layer is checked before any is written, so a bad list changes nothing.
        for l, mask in enumerate(check_weight_masks(masks, shapes)):
            self._core.set_keep_mask(l, mask)

    # Computation ----------------------------------------------------------------

    def _threads(self):
        return 0 if self._n_threads is None else self._n_threads

    def _input(self, X, name="X"):
        if self._is_ready_input(X) and _core.all_finite(X):
            # The core's scan reads X once. NumPy's checks convert X to float64
            # to sum it: about 5% of a fit at batch 1024 in one profile.
            return X
        return as_matrix(X, self._dtype, name, n_features=self._sizes[0])

    def _targets(self, Y, n_samples, name="Y", input_name="X"):
        return as_targets(
            Y, n_samples, self._sizes[-1], self._output, self._dtype, name, input_name
        )

    def forward(self, X):
        """Return the output activations for X, shape ``(n_samples, sizes[-1])``.

        Outputs are probabilities for softmax and logistic outputs, not logits.
        Dropout is never applied.
        """
        if self._is_ready_input(X):
            # The core scans X for NaN and infinity in a fraction of the time
            # NumPy's checks take for a single row. When it finds one, the full
            # checks below report where.
            Y_hat = self._core.forward_if_finite(X, self._threads())
            if Y_hat is not None:
                return Y_hat
        return self._core.forward(self._input(X), self._threads())

    def _is_ready_input(self, X):
        """Return whether X is a non-empty C-contiguous matrix of the model's dtype
        and input width, which the core can read without conversion."""
        return (
            type(X) is np.ndarray
            and X.dtype == self._dtype
            and X.ndim == 2
            and X.flags.c_contiguous
            and X.shape[0] > 0
            and X.shape[1] == self._sizes[0]
        )

    def gradients(self, X, Y, dropout=None, masks=None, sample_weight=None):
        """Return ``(loss, dW, db)`` of the mean data loss over the batch (X, Y).

        Parameters
        ----------
        X : array-like of shape (n_samples, sizes[0])
        Y : array-like of shape (n_samples, sizes[-1])
            For a softmax output, 1-D integer class indices are accepted too.
        dropout : float, sequence of float or None, default=None
            Drop probabilities as in ``fit``. Without ``masks`` the masks are the
            ones ``fit`` would draw for batch 0 of the next epoch.
        masks : list of (ndarray of bool or None), optional
            One keep-mask of shape ``(n_samples, sizes[l])`` per input and
            hidden layer, None for a layer that is not dropped. Needs
            ``dropout`` for the scale ``1 / (1 - p_l)`` of kept units.
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative, finite weights, not all zero, cast to the model's
            dtype. As in scikit-learn, the loss becomes the weighted mean
            ``sum_i s_i l_i / sum_i s_i`` and the output delta of row i
            ``s_i (y_hat_i - y_i) / sum_i s_i``. None weighs every row equally
            and costs nothing extra.

        Returns
        -------
        loss : float
            Mean data loss (weighted with sample_weight), without penalties.
        dW, db : list of ndarray
            Fresh arrays with the shapes of ``weights`` and ``biases``.
        """
        X = self._input(X)
        Y = self._targets(Y, X.shape[0])
        weights = as_sample_weight(sample_weight, X.shape[0], self._dtype)
        p = None if dropout is None else check_dropout(dropout, self.n_layers)
        if masks is not None:
            masks = check_masks(masks, X.shape[0], self._sizes, p)
        elif p is not None:
            masks = self.dropout_masks(self.epoch, 0, X.shape[0], p)
        else:
            p = [0.0] * self.n_layers
            masks = [None] * self.n_layers
        loss, dW, db = self._core.gradients(X, Y, weights, masks, p, self._threads())
        return float(loss), dW, db

    def hessian_diagonal(self, X, Y=None):
        """Return the diagonal of the Hessian of the mean loss over X for each weight.

        The second derivatives are those of Optimal Brain Damage (LeCun, Denker
        and Solla, "Optimal Brain Damage", NIPS 1990). A second backward pass
        drops the off-diagonal terms and, as in that paper's
        Levenberg-Marquardt approximation, the terms with phi''. With E the
        loss of one sample, z the pre-activations and a the inputs of a layer:

        - at the output, ``d2E/dz^2 = y_hat (1 - y_hat)`` for softmax with
          cross-entropy (the diagonal of the softmax Hessian) and for logistic
          with binary cross-entropy, and 1 for identity with squared error;
        - going back, ``d2E/da_j^2 = sum_o W_oj^2 d2E/dz_o^2`` and
          ``d2E/dz_j^2 = phi'(z_j)^2 d2E/da_j^2``;
        - for a weight, ``h_oj = mean over samples of d2E/dz_o^2 a_j^2``.

        Every entry is non-negative. For a network without hidden layers the
        result is the exact diagonal. No dropout is applied.

        Parameters
        ----------
        X : array-like of shape (n_samples, sizes[0])
        Y : array-like of shape (n_samples, sizes[-1]), optional
            Checked as in `gradients` when given. The result does not depend on
            it: in this approximation the targets drop out, because d2E/dz^2
            of every output pair depends on the outputs alone.

        Returns
        -------
        list of ndarray
            One array per layer, shaped like ``weights``. Biases are never
            pruned, so their second derivatives are not computed.
        """
        X = self._input(X)
        if Y is not None:
            self._targets(Y, X.shape[0])
        return self._core.hessian_diagonal(X, self._threads())

    def prune(
        self,
        X_val,
        Y_val,
        method="obd",
        tolerance=0.01,
        step=0.05,
        X_train=None,
        Y_train=None,
        retrain_epochs=0,
        **fit_options,
    ):
        """Remove the least salient weights step by step while the error allows.

        Each step removes ``ceil(step * remaining)`` of the remaining weights,
        those with the lowest saliency over all layers: ``h_kk w_k^2 / 2`` with
        h from `hessian_diagonal` for "obd", ``|w_k|`` for "magnitude".
        Saliencies are recomputed before every step, on the training data when
        given, else on the validation data. After the removal (and the
        optional retraining) the validation error is measured, and the step
        that takes it more than ``tolerance`` above its value before pruning is
        undone (masks, weights, biases, momentum and epoch counter), which ends
        pruning. It also ends when no weight is left. Biases are never pruned.

        The error watched is the misclassification rate for softmax and
        logistic outputs, and the mean loss ``1/2 sum_k (y_k - y_hat_k)^2`` for
        an identity output, so ``tolerance`` is a rate or a loss difference.
        A softmax row is wrong when its largest output is not the target row's
        largest entry. A logistic row is wrong when any output lies on the
        other side of 0.5 than its target.
        Removed weights are recorded in `weight_masks` and stay 0 in later
        training.

        Parameters
        ----------
        X_val : array-like of shape (n_samples, sizes[0])
        Y_val : array-like of shape (n_samples, sizes[-1])
            Validation data, with targets as in `fit`.
        method : {"obd", "magnitude"}, default="obd"
        tolerance : float >= 0, default=0.01
            Largest allowed rise of the validation error.
        step : float in (0, 1], default=0.05
            Fraction of the remaining weights that one step removes.
        X_train, Y_train : array-like, optional
            Training data for the saliencies and for retraining; both or
            neither.
        retrain_epochs : int >= 0, default=0
            Epochs of `fit` on the training data after each step's removal.
        **fit_options
            Keyword arguments of `fit` for retraining (``learning_rate``,
            ``momentum``, ...), only with ``retrain_epochs > 0``. ``epochs``
            is not one of them.

        Returns
        -------
        PruningReport
            The removed counts and fractions and the validation error after
            each kept step, and the error before pruning.

        Raises
        ------
        ValueError
            For an invalid argument or fit option value, before any weight is
            removed.
        TypeError
            For an argument of the wrong type or a keyword that `fit` does not
            take.
        RuntimeError, KeyboardInterrupt
            From retraining, as `fit` raises them. The step in progress is
            undone first, so the model is the one the last kept step left.
        """
        return prune_network(
            self,
            X_val,
            Y_val,
            method=method,
            tolerance=tolerance,
            step=step,
            X_train=X_train,
            Y_train=Y_train,
            retrain_epochs=retrain_epochs,
            fit_options=fit_options,
        )

    def fit(
        self,
        X,
        Y,
        epochs=10,
        batch_size=32,
        learning_rate=0.1,
        momentum=0.0,
        nesterov=False,
        l1=0.0,
        l2=0.0,
        dropout=0.0,
        shuffle=True,
        callback=None,
        penalty_scaling="none",
        optimizer="sgd",
        beta_1=0.9,
        beta_2=0.999,
        rho=0.99,
        epsilon=1e-8,
        sample_weight=None,
        tol=1e-4,
        max_fun=15000,
    ):
        """Train by minibatch SGD, RMSprop, Adam or L-BFGS; return the loss history.

        Every argument is checked before the first step; a rejected call leaves
        the model unchanged. The loop over epochs and batches runs in the
        compiled core with the GIL released.

        Parameters
        ----------
        X : array-like of shape (n_samples, sizes[0])
        Y : array-like of shape (n_samples, sizes[-1])
            For a softmax output, 1-D integer class indices are accepted too.
        epochs : int, default=10
        batch_size : int, default=32
            Rows per batch, clipped to n_samples. Batches are consecutive slices
            of the epoch's order and the last, partial batch is kept.
        learning_rate : float or callable, default=0.1
            The step size eta of every optimizer, or a schedule: a callable
            ``schedule(epoch) -> float`` called with the GIL held before each
            epoch, epoch counting from 1 within this call as in ``callback``.
            Its result is checked like a constant rate. A value that is not
            a positive finite number raises ValueError (TypeError for a value
            that is not a number) and leaves the model at the end of the
            previous epoch, as does an exception raised by the schedule.
        momentum : float in [0, 1), default=0.0
            SGD only: any other optimizer raises ValueError for a nonzero value.
        nesterov : bool, default=False
            Nesterov momentum; with ``momentum=0`` it has no effect, so SGD is
            plain SGD and the other optimizers accept it.
        l1, l2 : float, default=0.0
            Penalties ``l1 ||W||_1 + l2/2 ||W||^2`` on weights, never biases.
            Every optimizer steps along the penalised weight gradient
            ``g = dW + l2 W + l1 sign(W)``.
        dropout : float or sequence of float, default=0.0
            One probability for every hidden layer, or ``len(sizes) - 1`` values:
            the input layer first, then each hidden layer.
        shuffle : bool, default=True
            Visit samples in a new seeded order each epoch; False keeps their order.
        callback : callable or None, default=None
            ``callback(epoch, loss)`` after each epoch, epoch counting from 1
            within this call; returning True stops training.
        penalty_scaling : {"none", "batch"}, default="none"
            "batch" divides l1 and l2 by the batch's row count (its sum of
            sample weights when given), as scikit-learn scales ``alpha``.
        optimizer : {"sgd", "rmsprop", "adam"}, default="sgd"
            The update rule, with g the weight gradient above (biases: their
            data gradient):

            - "sgd": ``W -= eta g``, or with momentum ``v = mu v - eta g`` and
              ``W += v`` (Nesterov: ``W += mu v - eta g``).
            - "rmsprop", in PyTorch's form: ``s = rho s + (1 - rho) g^2`` and
              ``W -= eta g / (sqrt(s) + epsilon)``.
            - "adam", in scikit-learn's form: with the step count t increased
              first, ``m = beta_1 m + (1 - beta_1) g``,
              ``v = beta_2 v + (1 - beta_2) g^2``,
              ``eta_t = eta sqrt(1 - beta_2^t) / (1 - beta_1^t)`` and
              ``W -= eta_t m / (sqrt(v) + epsilon)``.

            Each optimizer's state starts at zero and persists across calls.
        beta_1, beta_2 : float in [0, 1), default=0.9, 0.999
            Adam's decay rates of the first and second moments.
        rho : float in [0, 1), default=0.99
            RMSprop's decay rate of the mean square (PyTorch's ``alpha``).
        epsilon : float > 0, default=1e-8
            Added to the root of the second moment by RMSprop and Adam.
        sample_weight : array-like of shape (n_samples,), optional
            Weights as in `gradients`, shuffled with their rows. Each batch
            minimises its weighted mean loss. A batch whose weights sum to 0
            takes no step (no update, no Adam step count) and is left out of
            the history. None costs nothing extra.
        tol : float >= 0, default=1e-4
            "lbfgs" only: stop when every gradient component, scaled as SciPy
            does, is at most tol (SciPy's ``gtol``, scikit-learn's ``tol``).
        max_fun : int >= 1, default=15000
            "lbfgs" only: the maximum number of loss and gradient evaluations.

        With ``optimizer="lbfgs"`` the model is trained on the whole data set at
        once by SciPy's L-BFGS-B on ``E = mean loss + l2/2 ||W||^2 +
        l1 ||W||_1``, as scikit-learn's lbfgs solver does: ``epochs`` is the
        maximum number of iterations, ``callback(iteration, loss)`` runs after
        each one, and ``batch_size``, ``shuffle`` and the constant
        ``learning_rate`` are ignored. Dropout and a learning-rate schedule
        raise ValueError. Each call starts a new curvature memory; the epoch
        counter and the other optimizers' state are left as they are. L1 makes
        E non-differentiable at 0, where the sign(0) = 0 subgradient is used,
        so L-BFGS may stop early with a line-search message.

        Returns
        -------
        history : list of float
            Per epoch: the mean over samples of the batch losses (computed
            before each batch's update, with dropout) plus the penalty terms.
            Batches count by their row count, also with sample weights, as in
            scikit-learn. For "lbfgs": E after each iteration.

        Raises
        ------
        KeyboardInterrupt
            On Ctrl-C, after the current batch; the model stays consistent.
        RuntimeError
            When a batch's loss, or a weight at the end of an epoch, becomes NaN
            or infinite. The model is first restored to its state at the start
            of that epoch (parameters, optimizer state and epoch counter); with
            "lbfgs", to its parameters before the call. Also when another
            thread is running fit on the same model.
        """
        check_callback(callback)
        # tol and max_fun act only with "lbfgs" but are checked for every
        # optimizer, and before X and Y.
        check_float(tol, "tol", 0.0)
        check_int(max_fun, "max_fun", 1)
        X, Y, weights, options = self._fit_arguments(
            X,
            Y,
            sample_weight,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=nesterov,
            l1=l1,
            l2=l2,
            dropout=dropout,
            shuffle=shuffle,
            penalty_scaling=penalty_scaling,
            optimizer=optimizer,
            beta_1=beta_1,
            beta_2=beta_2,
            rho=rho,
            epsilon=epsilon,
            tol=tol,
            max_fun=max_fun,
        )
        if options["optimizer"] == "lbfgs":
            return self._fit_lbfgs(X, Y, weights, options, callback).history
        epoch_end = None if callback is None else (lambda e, loss, _: callback(e, loss))
        history, _ = self._fit(X, Y, weights, options, epoch_end)
        return history

    def _fit_arguments(self, X, Y, sample_weight, **options):
        """Return X, Y, the sample weights and fit's options, checked and converted.

        ``options`` are keyword arguments of `fit`, and those left out take
        fit's defaults. They come back as a dict from `check_fit_options`.
        """
        X = self._input(X)
        Y = self._targets(Y, X.shape[0])
        weights = as_sample_weight(sample_weight, X.shape[0], self._dtype)
        options = check_fit_options(self.n_layers, **{**_FIT_DEFAULTS, **options})
        return X, Y, weights, options

    def _fit(self, X, Y, weights, options, epoch_end):
        """Run fit with a stochastic optimizer; return (history, penalties).

        X, Y, weights and options are as `_fit_arguments` returns them. The
        result contains the per-epoch losses and their penalty parts.
        ``epoch_end(epoch, loss, penalty)`` replaces fit's two-argument callback.
        """
        learning_rate = options["learning_rate"]
        if callable(learning_rate):
            schedule = learning_rate

            def learning_rate(epoch):
                return check_scheduled_learning_rate(schedule(epoch), epoch)

        history, penalties = self._core.fit(
            X,
            Y,
            weights,
            options["epochs"],
            options["batch_size"],
            options["optimizer"],
            learning_rate,
            options["momentum"],
            options["nesterov"],
            options["beta_1"],
            options["beta_2"],
            options["rho"],
            options["epsilon"],
            options["l1"],
            options["l2"],
            options["penalty_scaling"] == "batch",
            options["dropout"],
            options["shuffle"],
            epoch_end,
            self._threads(),
        )
        return history, penalties

    def _fit_lbfgs(self, X, Y, weights, options, callback, report_loss=None):
        """Run fit with optimizer="lbfgs"; return the LbfgsResult.

        X, Y, weights and options are as `_fit_arguments` returns them, and the
        stochastic optimizers' options among them are unused.
        ``report_loss(loss, penalty)``, if given, maps the penalised loss and
        its penalty part to the loss that SciPy, the callback and the history
        see. The gradient stays that of the penalised loss.
        """
        divisor = penalty_divisor(options["penalty_scaling"], X.shape[0], weights)
        l1, l2 = options["l1"] / divisor, options["l2"] / divisor
        start = self._core.flat_parameters()
        threads = self._threads()

        def objective(theta):
            loss, grad = self._core.objective(theta, X, Y, weights, l1, l2, threads)
            if report_loss is not None:
                penalty = weight_penalty(theta, self._sizes, l1, l2)
                loss = report_loss(loss, penalty)
            return loss, grad

        result = fit_lbfgs(
            objective,
            start,
            max_iter=options["epochs"],
            max_fun=options["max_fun"],
            tol=options["tol"],
            callback=callback,
        )
        if not np.isfinite(self._core.flat_parameters()).all():
            objective(start)
            raise RuntimeError(
                "training diverged: L-BFGS reached NaN or infinite weights; the "
                "model was restored to its state before fit. Scale the inputs and "
                "targets"
            )
        return result

    # Replaying fit ----------------------------------------------------------------

    def shuffle_order(self, epoch, n_samples):
        """Return the sample order ``fit`` uses in ``epoch`` (from 0) when shuffling."""
        epoch = check_int(epoch, "epoch", 0)
        n_samples = check_int(n_samples, "n_samples", 0)
        return _core.shuffle_order(self._seed, epoch, n_samples)

    def dropout_masks(self, epoch, batch, n_rows, dropout):
        """Return the keep-masks ``fit`` draws for one batch of one epoch.

        A list with one boolean array of shape ``(n_rows, sizes[l])`` per input
        and hidden layer, or None for a layer whose probability is 0.
        """
        epoch = check_int(epoch, "epoch", 0)
        batch = check_int(batch, "batch", 0)
        n_rows = check_int(n_rows, "n_rows", 0)
        p = check_dropout(dropout, self.n_layers)
        return [
            None
            if p_l == 0
            else _core.dropout_mask(
                self._seed, epoch, batch, l, n_rows, self._sizes[l], p_l
            )
            for l, p_l in enumerate(p)
        ]

    # Saving and loading -------------------------------------------------------------

    def _state(self):
        """Return every setting and array of the model as a dict of arrays."""
        state = {
            "format_version": np.array(SAVE_FORMAT_VERSION),
            "sizes": np.array(self._sizes, dtype=np.int64),
            "activation": np.array(self._activation),
            "output": np.array(self._output),
            "dtype": np.array(self._dtype.name),
            "seed": np.array(self._seed, dtype=np.uint64),
            "n_threads": np.array(-1 if self._n_threads is None else self._n_threads),
            "epoch": np.array(self.epoch, dtype=np.uint64),
            "adam_step": np.array(self._core.adam_step, dtype=np.uint64),
        }
        saved = list(_SAVED_PARAMETERS)
        for optimizer, arrays in _SAVED_OPTIMIZER_STATE.items():
            if self._core.has_state(optimizer):
                saved += list(arrays)
        for which in saved:
            for l, array in enumerate(self._get(which)):
                state[f"{which}_{l}"] = array
        # Only pruned layers store a mask; a file without any loads unpruned.
        for l, mask in enumerate(self.weight_masks):
            if not mask.all():
                state[f"keep_{l}"] = mask
        return state

    @classmethod
    def _from_state(cls, state, source):
        """Return the model that _state's dict describes; raise ValueError if none."""
        try:
            version = int(state["format_version"])
            if version not in _READABLE_FORMAT_VERSIONS:
                raise ValueError(
                    f"{source} has format version {version}; this fastmlp reads "
                    f"versions {', '.join(map(str, _READABLE_FORMAT_VERSIONS))}"
                )
            n_threads = int(state["n_threads"])
            net = cls(
                [int(s) for s in state["sizes"]],
                activation=str(state["activation"]),
                output=str(state["output"]),
                dtype=str(state["dtype"]),
                seed=int(state["seed"]),
                n_threads=None if n_threads < 0 else n_threads,
            )
            net.weight_masks = [
                state.get(f"keep_{l}", np.ones(shape, dtype=bool))
                for l, shape in enumerate(W.shape for W in net.weights)
            ]
            for which, name in _SAVED_PARAMETERS.items():
                arrays = [state[f"{which}_{l}"] for l in range(net.n_layers)]
                net._set(which, arrays, name)
            for optimizer_state in _SAVED_OPTIMIZER_STATE.values():
                for which, name in optimizer_state.items():
                    # A file contains an optimizer's arrays only once it has run.
                    if f"{which}_0" not in state:
                        continue
                    arrays = [state[f"{which}_{l}"] for l in range(net.n_layers)]
                    net._set(which, arrays, name)
            net._core.epoch = int(state["epoch"])
            if version >= 2:
                net._core.adam_step = int(state["adam_step"])
        except KeyError as error:
            raise ValueError(
                f"{source} is not a fastmlp model: {error} is missing"
            ) from None
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{source} is not a valid fastmlp model: {error}"
            ) from error
        return net

    def _snapshot(self):
        """Return copies of the masks, parameters, velocities and epoch counter."""
        snapshot = {which: self._get(which) for which in _SAVED_PARAMETERS}
        snapshot["masks"] = self.weight_masks
        snapshot["epoch"] = self.epoch
        return snapshot

    def _restore(self, snapshot):
        """Put back the state that `_snapshot` returned."""
        self.weight_masks = snapshot["masks"]
        for which, name in _SAVED_PARAMETERS.items():
            self._set(which, snapshot[which], name)
        self._core.epoch = snapshot["epoch"]

    def save(self, path):
        """Write the model to ``path`` (exactly that name) as a NumPy ``.npz`` file.

        The file contains a format version, every setting, the weights, biases,
        the state of each optimizer that has run (SGD's velocities always), the
        epoch counter and the weight masks of pruned layers. ``path`` must be a
        str or os.PathLike, and any other type raises TypeError. The file is
        written under a temporary name next to ``path`` and then renamed, so a
        save that fails partway leaves an existing file at ``path`` unchanged.
        """
        check_path(path)
        state = self._state()
        temporary = f"{os.fspath(path)}.{os.getpid()}.tmp"
        try:
            # An open file keeps np.savez from appending ".npz" to the name.
            with open(temporary, "wb") as file:
                np.savez(file, **state)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise

    @classmethod
    def load(cls, path):
        """Return the model saved at ``path`` (a str or os.PathLike).

        Raises ValueError for a file that is not a fastmlp model or is damaged,
        and TypeError for a path of another type.
        """
        check_path(path)
        source = repr(os.fspath(path))
        # Open the file here so that it is closed even when np.load fails.
        with open(path, "rb") as file:
            state = _read_archive(file, source)
        return cls._from_state(state, source)

    def __getstate__(self):
        return self._state()

    def __setstate__(self, state):
        self.__dict__.update(self._from_state(state, "pickled state").__dict__)


def _read_archive(file, source):
    """Return every array of the .npz archive in an open file, keyed by name."""
    not_an_archive = f"{source} is not a fastmlp model file (not a NumPy .npz archive)"
    try:
        archive = np.load(file, allow_pickle=False)
    except (ValueError, EOFError) as error:
        # NumPy raises these for empty files, damaged .npy headers and files
        # that are neither .npz nor .npy. For the last kind its message suggests
        # unpickling the file, which could run code from it, so NumPy's message
        # is kept only as the cause.
        raise ValueError(not_an_archive) from error
    except (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
        # zipfile raises NotImplementedError for an unknown zip version or
        # compression and RuntimeError for an encryption flag.
        raise ValueError(
            f"{source} is not a readable fastmlp model: {error}"
        ) from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        # A .npy file contains one array, never a model.
        raise ValueError(not_an_archive)
    with archive:
        try:
            return {key: archive[key] for key in archive.files}
        except (
            OSError,
            ValueError,
            EOFError,
            zipfile.BadZipFile,
            zlib.error,
            NotImplementedError,
            RuntimeError,
        ) as error:
            raise ValueError(
                f"{source} is not a readable fastmlp model: {error}"
            ) from error


# Defaults of the fit options that check_fit_options checks, read from the
# signature of MLP.fit, for callers of MLP._fit_arguments that set only some.
_FIT_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(MLP.fit).parameters.items()
    if name in inspect.signature(check_fit_options).parameters
}
