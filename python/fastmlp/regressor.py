"""MLPRegressor: scikit-learn's multilayer perceptron regressor on the fastmlp core."""

import math

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import column_or_1d

from ._estimator_base import PARAMETER_CONSTRAINTS, SUPPORTED_OPTIONS, BaseMLP
from ._parameters import StrOptions

# The regressor has one parameter more than the classifier: the loss.
REGRESSOR_CONSTRAINTS = {
    **PARAMETER_CONSTRAINTS,
    "loss": [StrOptions("squared_error", "poisson")],
}
REGRESSOR_SUPPORTED_OPTIONS = {**SUPPORTED_OPTIONS, "loss": ("squared_error",)}


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multilayer perceptron regressor trained by Adam, SGD or L-BFGS.

    A drop-in replacement for scikit-learn's ``MLPRegressor``: the same
    parameters with the same meaning and defaults. Three parameters are
    added: ``l1``, ``dropout`` and ``n_threads``. The output layer is linear
    (identity) with one unit per target, trained on the squared error. Adam
    and SGD run all epochs in one call into the compiled core; L-BFGS runs
    SciPy's L-BFGS-B on the core's loss and gradient over the whole training
    set.

    Parameters
    ----------
    loss : {"squared_error", "poisson"}, default="squared_error"
        Loss to minimise. Only "squared_error" (half the squared error) is
        implemented, and "poisson" raises ValueError.
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Width of each hidden layer, from the input side. An empty tuple gives
        a linear model.
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    solver : {"adam", "sgd", "lbfgs"}, default="adam"
        Optimiser, in scikit-learn's form. "adam" and "sgd" train on
        minibatches for ``max_iter`` epochs: Adam with ``beta_1``,
        ``beta_2`` and ``epsilon``, SGD with ``momentum`` and the
        ``learning_rate`` schedule. "lbfgs" runs SciPy's L-BFGS-B on the
        whole training set, with ``max_iter``, ``max_fun`` and ``tol``;
        it suits small data sets.
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 * ||W||^2`` on the weights (not
        the biases). As in scikit-learn, each batch divides it by its number
        of rows (by its sum of sample weights when fit gets sample_weight).
        For lbfgs the whole training set is the batch.
    batch_size : int or "auto", default="auto"
        Rows per minibatch; "auto" means ``min(200, n_samples)``. Values above
        n_samples are clipped, with a warning. lbfgs does not use it.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step size schedule of solver="sgd"; Adam and lbfgs ignore it, as in
        scikit-learn. "constant" keeps ``learning_rate_init``. "invscaling"
        sets the rate after each epoch to ``learning_rate_init / (t_ + 1) **
        power_t``. "adaptive" keeps the rate while the training loss (the
        validation score with early stopping) improves; after more than
        ``n_iter_no_change`` epochs without improvement it divides the rate
        by 5 instead of stopping, and stops only once the rate is at most
        1e-6. ``partial_fit`` carries the rate over to the next call.
    learning_rate_init : float, default=0.001
        The step size of SGD and Adam, > 0 (Adam's step size before its
        bias correction). lbfgs does not use it.
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data) for "sgd"
        and "adam"; maximum number of iterations for "lbfgs".
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch ("sgd" and
        "adam").
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the dropout
        masks. An int gives the same results on every call regardless of
        NumPy's global state. None draws the seed from NumPy's global
        RandomState, as scikit-learn does.
    tol : float, default=1e-4
        An epoch improves on the best training loss so far only if it lowers
        it by at least tol; with early stopping, on the best validation score
        only if it raises it by at least tol. For lbfgs, SciPy's ``gtol``:
        training stops once no component of the projected gradient exceeds
        tol.
    verbose : bool, int or callable, default=False
        A true bool or int prints scikit-learn's lines: "Iteration N, loss =
        X" after each epoch, "Validation score: S" after it with early
        stopping, and one line when training stops early or the "adaptive"
        schedule lowers the rate. A callable is called as
        ``verbose(epoch, loss, validation_score)`` after each epoch instead,
        with ``epoch`` counting from 1 in each call to ``fit``, ``loss`` the
        epoch's ``loss_curve_`` entry and ``validation_score`` None without
        early stopping. Its return value is ignored, and an exception it
        raises stops training and propagates out of ``fit``. With lbfgs the
        line or the call comes after each iteration, with the loss of the
        new weights. (scikit-learn 1.9.1 prints nothing for lbfgs with SciPy
        1.15 or newer.)
    warm_start : bool, default=False
        When True and the model is fitted, ``fit`` continues from the fitted
        weights instead of initialising new ones. The optimizer restarts, as
        in scikit-learn: SGD's momentum and Adam's moments from zero, the
        learning-rate schedule from ``learning_rate_init``.
    momentum : float, default=0.9
        Momentum of the SGD updates, in [0, 1). Adam and lbfgs ignore it.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum with solver="sgd".
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, compute R^2
        on it after each epoch, stop when it has not improved by at
        least ``tol`` for more than ``n_iter_no_change`` epochs and keep the
        weights of the best epoch. The split, not stratified, is
        scikit-learn's for the same int ``random_state``. Sample weights are
        split with the samples and weigh R^2. ``partial_fit`` raises
        ValueError when it is True, and lbfgs ignores it.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping, in [0, 1)
        and above 0 when early stopping is on. A validation set of fewer
        than 2 samples raises ValueError.
    beta_1 : float, default=0.9
        Adam's decay rate of the first moment (the mean of the gradients),
        in [0, 1).
    beta_2 : float, default=0.999
        Adam's decay rate of the second moment (the mean of the squared
        gradients), in [0, 1).
    epsilon : float, default=1e-8
        Added by Adam to the square root of the second moment, > 0.
    n_iter_no_change : int or inf, default=10
        With "sgd" and "adam", training stops when more than this many
        epochs in a row brought no improvement of at least ``tol`` in the
        training loss, or in the validation score with early stopping.
        ``np.inf`` never stops early.
    max_fun : int, default=15000
        Maximum number of loss and gradient evaluations of lbfgs. Reaching
        it stops training with a ConvergenceWarning.
    l1 : float, default=0.0
        Strength of the L1 penalty ``l1 * ||W||_1`` on the weights, divided
        by the batch size like ``alpha``. With lbfgs, note that L1 makes the
        loss non-differentiable at 0, where the gradient uses sign(0) = 0.
        L-BFGS assumes a smooth loss, so it may stop early on a failed line
        search (status 2, with a ConvergenceWarning).
    dropout : float or sequence of float, default=0.0
        Inverted dropout during training: one drop probability in [0, 1) for
        every hidden layer, or a sequence with one probability for the input
        layer followed by one per hidden layer. Prediction uses every unit.
        Only the stochastic solvers drop units; with lbfgs a nonzero value
        raises ValueError.
    n_threads : int or None, default=None
        Number of OpenMP threads of the core. None follows OpenMP's default
        (``OMP_NUM_THREADS``, threadpoolctl limits). Results do not depend on
        it.
    progress_bar : bool, default=False
        Show a tqdm progress bar that advances once per epoch and shows the
        loss (and the validation score with early stopping). True needs the
        tqdm package (``pip install tqdm``); without it ``fit`` raises
        ImportError before training.

    Attributes
    ----------
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (n_units_in, n_units_out) holds the weights
        from layer i to layer i + 1, in the training dtype.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape (n_units_out,) holds the biases of layer
        i + 1.
    loss_ : float
        Training loss of the last epoch, or with lbfgs at the final weights,
        as scikit-learn reports it: half the squared error averaged over
        samples and outputs, plus the penalties.
    best_loss_ : float or None
        Lowest epoch loss reached, over this fit and earlier warm starts.
        None with early stopping: see ``best_validation_score_``. Set by
        "sgd" and "adam" only, like the next three attributes: an lbfgs fit
        removes them, where scikit-learn 1.9.1 leaves those of an earlier
        stochastic fit in place.
    validation_scores_ : list of float or None
        R^2 on the validation set after each epoch, averaged uniformly over
        the outputs and warm-start fits appended. NaN for an epoch whose
        predictions are not finite. None without early stopping.
    best_validation_score_ : float or None
        Best validation R^2, whose weights the model keeps. None without
        early stopping.
    loss_curve_ : list of float
        Loss of every epoch, warm-start fits appended.
    n_iter_ : int
        Epochs run by the last call to ``fit`` or ``partial_fit``, or
        iterations of the last lbfgs fit.
    t_ : int
        Training samples seen so far by the stochastic solvers,
        ``n_samples * n_iter_`` summed over fits, where n_samples excludes
        the validation set. As in scikit-learn, an lbfgs fit leaves it
        unchanged, at 0 after a fit that starts afresh.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of X, when X was a DataFrame with string column names.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of outputs.
    out_activation_ : str
        Output activation, always "identity".

    See Also
    --------
    MLPClassifier : The classifier on the same core.
    sklearn.neural_network.MLPRegressor : The scikit-learn original.

    Notes
    -----
    Not implemented yet: the "poisson" loss and sparse X (sparse matrices
    raise TypeError, so convert them with ``.toarray()``). Negative sample
    weights raise ValueError, where scikit-learn accepts them.

    On Ctrl-C, training stops after the current batch (lbfgs: the last
    completed iteration), ``fit`` warns and returns the model trained so far.

    With several outputs, lbfgs hands SciPy the loss averaged over the
    outputs together with the gradient of the loss summed over them, as
    scikit-learn 1.9.1 does, so both take the same steps.

    With ``warm_start=True`` early stopping carries ``validation_scores_``,
    ``best_validation_score_`` and the count of epochs without improvement
    over from the previous fit, as scikit-learn does. If that fit used the
    other stopping criterion, the record of the new one starts afresh,
    where scikit-learn 1.9.1 raises an AttributeError or TypeError.

    Examples
    --------
    >>> import numpy as np
    >>> from fastmlp import MLPRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 3))
    >>> y = X @ [1.0, -2.0, 0.5]
    >>> reg = MLPRegressor(
    ...     hidden_layer_sizes=(16,), learning_rate_init=0.01, max_iter=300,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> reg.predict(X[:2]).shape
    (2,)
    >>> bool(reg.score(X, y) > 0.95)
    True
    """

    _numeric_targets = True
    _constraints = REGRESSOR_CONSTRAINTS
    _supported_options = REGRESSOR_SUPPORTED_OPTIONS

    def __init__(
        self,
        loss="squared_error",
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        l1=0.0,
        dropout=0.0,
        n_threads=None,
        progress_bar=False,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.l1 = l1
        self.dropout = dropout
        self.n_threads = n_threads
        self.progress_bar = progress_bar

    @available_if(BaseMLP._check_partial_fit_solver)
    def partial_fit(self, X, y, sample_weight=None):
        """Train one epoch, continuing from the current weights and optimizer.

        The optimizer of the previous ``fit`` or ``partial_fit`` carries
        over, as in scikit-learn: SGD's velocities, Adam's moments and step
        count, and the learning rate of the "invscaling" and "adaptive"
        schedules. Its settings (solver, learning_rate, learning_rate_init,
        power_t, momentum, nesterovs_momentum, beta_1, beta_2, epsilon) stay
        as they were when it was created, until the next ``fit``. An
        unpickled estimator starts a new optimizer. Only the stochastic
        solvers have this method: with ``solver="lbfgs"`` accessing it
        raises AttributeError (scikit-learn 1.9.1's regressor instead runs a
        whole lbfgs fit).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target values.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Weight of each sample, as in `fit`.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predict the targets of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions, 1-D for a model with one output.
        """
        prediction = self._forward(X)
        if self.n_outputs_ == 1:
            return prediction.ravel()
        return prediction

    def _prepare_targets(self, y, continuing, classes):
        """Shape y for MLP.fit; return (Y, fitted target attributes)."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = y.reshape(y.shape[0], -1)
        return Y, {"n_outputs_": Y.shape[1], "out_activation_": "identity"}

    def _score_output(self, output, y, targets, sample_weight=None):
        """Return R^2 of output against y, or NaN when an output is not finite.

        NaN, as in scikit-learn, because r2_score rejects non-finite input.
        Sample weights weigh the samples.
        """
        if not np.isfinite(output).all():
            return math.nan
        prediction = output.ravel() if output.shape[1] == 1 else output
        return r2_score(y, prediction, sample_weight=sample_weight)

    def _report_loss(self, net, n_samples, batch_size):
        """Return the map to scikit-learn's loss, averaged over the outputs.

        MLP.fit sums the squared error over the outputs, while scikit-learn
        reports its mean over them; the penalties are not divided.
        """
        n_outputs = net.sizes[-1]
        if n_outputs == 1:
            return None
        return lambda loss, penalty: (loss - penalty) / n_outputs + penalty

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
