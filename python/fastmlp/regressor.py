"""MLPRegressor: scikit-learn's multilayer perceptron regressor on the fastmlp core."""

import math

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if

from ._estimator_base import PARAMETER_CONSTRAINTS, SUPPORTED_OPTIONS, BaseMLP
from ._estimator_docs import fill_shared_sections
from ._parameters import StrOptions

# The regressor has one parameter more than the classifier: the loss.
REGRESSOR_CONSTRAINTS = {
    **PARAMETER_CONSTRAINTS,
    "loss": [StrOptions("squared_error", "poisson")],
}
REGRESSOR_SUPPORTED_OPTIONS = {**SUPPORTED_OPTIONS, "loss": ("squared_error",)}


@fill_shared_sections
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
    $parameters_before_early_stopping
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, compute R^2
        on it after each epoch, stop when it has not improved by at
        least ``tol`` for more than ``n_iter_no_change`` epochs and keep the
        weights of the best epoch. The split, not stratified, is
        scikit-learn's for the same int ``random_state``. Sample weights are
        split with the samples and weigh R^2. ``partial_fit`` raises
        ValueError when it is True, and lbfgs ignores it.
    $parameters_after_early_stopping

    Attributes
    ----------
    $weight_attributes
    loss_ : float
        Training loss of the last epoch, or with lbfgs at the final weights,
        as scikit-learn reports it: half the squared error averaged over
        samples and outputs, plus the penalties.
    $best_loss_attribute
    validation_scores_ : list of float or None
        R^2 on the validation set after each epoch, averaged uniformly over
        the outputs and warm-start fits appended. NaN for an epoch whose
        predictions are not finite. None without early stopping.
    best_validation_score_ : float or None
        Best validation R^2, whose weights the model keeps. None without
        early stopping.
    $history_and_shape_attributes
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

    $interrupt_note

    With several outputs, lbfgs hands SciPy the loss averaged over the
    outputs together with the gradient of the loss summed over them, as
    scikit-learn 1.9.1 does, so both take the same steps.

    $warm_start_note

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
