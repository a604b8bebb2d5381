"""MLPClassifier: scikit-learn's MLP classifier on the fastmlp core."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import column_or_1d

from ._estimator_base import BaseMLP

# A logistic output above this probability predicts the positive class (binary)
# or the presence of a label (multilabel).
DECISION_THRESHOLD = 0.5


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier trained by SGD on the fastmlp core.

    A drop-in replacement for scikit-learn's ``MLPClassifier``: the same
    parameters with the same meaning and defaults, except ``solver``, which
    defaults to "sgd" because the Adam and L-BFGS solvers are not implemented
    yet. Three parameters are added: ``l1``, ``dropout`` and ``n_threads``.
    Training minimises the cross-entropy plus the penalties by minibatch SGD,
    with all epochs run in one call into the compiled core.

    The output layer follows the targets: one logistic unit for two classes,
    a softmax over the classes for more, and one logistic unit per label for
    a multilabel indicator matrix.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Width of each hidden layer, from the input side. An empty tuple gives
        a network without hidden layers (logistic or softmax regression).
    activation : {"identity", "logistic", "tanh", "relu"}, default="relu"
        Activation of the hidden layers.
    solver : {"sgd", "adam", "lbfgs"}, default="sgd"
        Optimiser. Only "sgd" is implemented, and "adam" and "lbfgs"
        raise ValueError. scikit-learn's default is "adam".
    alpha : float, default=0.0001
        Strength of the L2 penalty ``alpha / 2 * ||W||^2`` on the weights (not
        the biases). As in scikit-learn, each batch divides it by its number
        of rows.
    batch_size : int or "auto", default="auto"
        Rows per minibatch; "auto" means ``min(200, n_samples)``. Values above
        n_samples are clipped, with a warning.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        Step size schedule. Only "constant" is implemented.
    learning_rate_init : float, default=0.001
        The SGD step size, > 0.
    power_t : float, default=0.5
        Exponent of the "invscaling" schedule, stored and checked but unused.
    max_iter : int, default=200
        Maximum number of epochs (passes over the training data).
    shuffle : bool, default=True
        Visit the samples in a new random order each epoch.
    random_state : int, RandomState instance or None, default=None
        Seeds the weight initialisation, the shuffling and the dropout
        masks. An int gives the same results on every call regardless of
        NumPy's global state. None draws the seed from NumPy's global
        RandomState, as scikit-learn does.
    tol : float, default=1e-4
        An epoch improves on the best training loss so far only if it lowers
        it by at least tol; with early stopping, on the best validation score
        only if it raises it by at least tol.
    verbose : bool, int or callable, default=False
        A true bool or int prints scikit-learn's lines: "Iteration N, loss =
        X" after each epoch, "Validation score: S" after it with early
        stopping, and one line when training stops early. A callable is
        called as ``verbose(epoch, loss, validation_score)`` after each
        epoch instead, with ``epoch`` counting from 1 in each call to
        ``fit``, ``loss`` the epoch's ``loss_curve_`` entry and
        ``validation_score`` None without early stopping. Its return value
        is ignored, and an exception it raises stops training and propagates
        out of ``fit``.
    warm_start : bool, default=False
        When True and the model is fitted, ``fit`` continues from the fitted
        weights instead of initialising new ones (the momentum restarts from
        zero, as in scikit-learn).
    momentum : float, default=0.9
        Momentum of the SGD updates, in [0, 1).
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, compute the
        accuracy on it after each epoch, stop when it has not improved by at
        least ``tol`` for more than ``n_iter_no_change`` epochs and keep the
        weights of the best epoch. The split is scikit-learn's for the same
        int ``random_state``: stratified for binary targets only, as
        scikit-learn 1.9.1 does. ``partial_fit`` raises ValueError when it
        is True.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping, in [0, 1)
        and above 0 when early stopping is on. A validation set of fewer
        than 2 samples raises ValueError.
    beta_1 : float, default=0.9
        Adam parameter, stored and checked but unused.
    beta_2 : float, default=0.999
        Adam parameter, stored and checked but unused.
    epsilon : float, default=1e-8
        Adam parameter, stored and checked but unused.
    n_iter_no_change : int or inf, default=10
        Training stops when more than this many epochs in a row brought no
        improvement of at least ``tol`` in the training loss, or in the
        validation score with early stopping. ``np.inf`` never stops early.
    max_fun : int, default=15000
        L-BFGS parameter, stored and checked but unused.
    l1 : float, default=0.0
        Strength of the L1 penalty ``l1 * ||W||_1`` on the weights, divided
        by the batch size like ``alpha``.
    dropout : float or sequence of float, default=0.0
        Inverted dropout during training: one drop probability in [0, 1) for
        every hidden layer, or a sequence with one probability for the input
        layer followed by one per hidden layer. Prediction uses every unit.
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
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted. For multilabel targets, the column indices.
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (n_units_in, n_units_out) holds the weights
        from layer i to layer i + 1, in the training dtype.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape (n_units_out,) holds the biases of layer
        i + 1.
    loss_ : float
        Training loss of the last epoch: mean cross-entropy plus penalties.
    best_loss_ : float or None
        Lowest epoch loss reached, over this fit and earlier warm starts.
        None with early stopping: see ``best_validation_score_``.
    validation_scores_ : list of float or None
        Accuracy on the validation set after each epoch (subset accuracy for
        multilabel targets), warm-start fits appended. None without early
        stopping.
    best_validation_score_ : float or None
        Best validation accuracy, whose weights the model keeps. None
        without early stopping.
    loss_curve_ : list of float
        Loss of every epoch, warm-start fits appended.
    n_iter_ : int
        Epochs run by the last call to ``fit`` or ``partial_fit``.
    t_ : int
        Training samples seen so far, ``n_samples * n_iter_`` summed over
        fits, where n_samples excludes the validation set.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names of X, when X was a DataFrame with string column names.
    n_layers_ : int
        Number of layers, input and output included.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        Output activation: "logistic" or "softmax".

    See Also
    --------
    MLPRegressor : The regressor on the same core.
    sklearn.neural_network.MLPClassifier : The scikit-learn original.

    Notes
    -----
    Not implemented yet: the "adam" and "lbfgs" solvers, the "invscaling" and
    "adaptive" learning rate schedules, ``sample_weight`` and sparse X
    (sparse matrices raise TypeError, so convert them with ``.toarray()``).

    With ``warm_start=True`` early stopping carries ``validation_scores_``,
    ``best_validation_score_`` and the count of epochs without improvement
    over from the previous fit, as scikit-learn does. If that fit used the
    other stopping criterion, the record of the new one starts afresh,
    where scikit-learn 1.9.1 raises an AttributeError or TypeError.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> from fastmlp import MLPClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> clf = MLPClassifier(
    ...     hidden_layer_sizes=(16,), batch_size=16, learning_rate_init=0.1,
    ...     random_state=0,
    ... ).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    >>> bool(clf.score(X, y) > 0.95)
    True
    """

    _numeric_targets = False

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="sgd",
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

    def partial_fit(self, X, y, classes=None):
        """Train one epoch, continuing from the current weights and momentum.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            Every class that any call will see. Required on the first call
            and ignored afterwards. Multilabel targets take their labels from
            the columns of y.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if classes is None and not hasattr(self, "classes_"):
            raise ValueError(
                "classes must be given on the first call to partial_fit, for "
                "example classes=np.unique(y_all)."
            )
        return self._fit(X, y, incremental=True, classes=classes)

    def predict(self, X):
        """Predict class labels for X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Predicted classes, or a 0/1 indicator matrix for a multilabel
            model.
        """
        output = self._forward(X)
        return _labels_from_output(output, self.classes_, self._is_multilabel())

    def predict_proba(self, X):
        """Return the probability of each class for each sample of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities in the order of ``classes_``. For two classes the
            columns are ``1 - p`` and ``p``; for multilabel models each column
            is the independent probability of its label.
        """
        proba = self._forward(X)
        if proba.shape[1] == 1:
            return np.hstack([1 - proba, proba])
        return proba

    def predict_log_proba(self, X):
        """Return the natural logarithm of `predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            ``log(predict_proba(X))``; a probability that rounds to 0 gives
            ``-inf``.
        """
        proba = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(proba)

    def _is_multilabel(self):
        """Return True when the model was fitted on a multilabel indicator y."""
        return _is_multilabel(self.out_activation_, self.n_outputs_)

    def _score_output(self, output, y, targets):
        """Return the accuracy of the labels predicted from output.

        For multilabel targets this is the subset accuracy: a sample counts
        only when all its labels are right.
        """
        multilabel = _is_multilabel(targets["out_activation_"], targets["n_outputs_"])
        labels = _labels_from_output(output, targets["classes_"], multilabel)
        return accuracy_score(y, labels)

    def _prepare_targets(self, y, continuing, classes):
        """Encode labels for MLP.fit; return (Y, fitted target attributes)."""
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target_type = type_of_target(y, input_name="y")
        multilabel = target_type == "multilabel-indicator"
        if continuing and multilabel != self._is_multilabel():
            fitted = "multilabel" if self._is_multilabel() else "single-label"
            raise ValueError(
                f"y is {target_type} but the model was fitted on {fitted} targets. "
                "Call fit with warm_start=False to start over."
            )
        if multilabel:
            Y = y.astype(np.float32)
            targets = {"classes_": np.arange(y.shape[1]), "out_activation_": "logistic"}
            return Y, {**targets, "n_outputs_": y.shape[1]}
        if target_type not in ("binary", "multiclass"):
            raise ValueError(
                f"{type(self).__name__} supports binary, multiclass and "
                f"multilabel-indicator targets, got a {target_type} y."
            )

        fitted_classes = self._classes_for(y, continuing, classes)
        class_index = np.searchsorted(fitted_classes, y)
        if len(fitted_classes) == 2:
            Y = (class_index == 1).astype(np.float32)
            output, n_outputs = "logistic", 1
        else:
            Y = class_index
            output, n_outputs = "softmax", len(fitted_classes)
        targets = {"classes_": fitted_classes, "out_activation_": output}
        return Y, {**targets, "n_outputs_": n_outputs}

    def _classes_for(self, y, continuing, classes):
        """Return the sorted classes of the model after a fit on labels y."""
        labels = unique_labels(y)
        if continuing:
            fitted_classes = self.classes_
            if self.warm_start and not np.array_equal(labels, fitted_classes):
                raise ValueError(
                    f"warm_start needs y to have the fitted classes {fitted_classes}, "
                    f"got {labels}. Call fit with warm_start=False to start over."
                )
        elif classes is not None:
            fitted_classes = unique_labels(classes)
        else:
            fitted_classes = labels

        unknown = np.setdiff1d(labels, fitted_classes)
        if len(unknown):
            raise ValueError(
                f"y contains labels {unknown} that are not among the classes "
                f"{fitted_classes}."
            )
        if len(fitted_classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but y "
                f"contains only one class: {fitted_classes.tolist()[0]!r}."
            )
        return fitted_classes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _is_multilabel(out_activation, n_outputs):
    """Return True for the output layer of a multilabel model."""
    return out_activation == "logistic" and n_outputs > 1


def _labels_from_output(output, classes, multilabel):
    """Return the predicted labels, or a 0/1 indicator matrix, for network outputs.

    ``output`` has one logistic column for a binary problem, one softmax
    column per class for a multiclass problem and one logistic column per
    label for a multilabel problem.
    """
    if multilabel:
        return (output > DECISION_THRESHOLD).astype(int)
    if output.shape[1] == 1:
        return classes[(output[:, 0] > DECISION_THRESHOLD).astype(int)]
    return classes[np.argmax(output, axis=1)]
