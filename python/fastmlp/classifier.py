"""MLPClassifier: scikit-learn's MLP classifier on the fastmlp core."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)

from ._estimator_base import BaseMLP
from ._estimator_docs import fill_shared_sections

# A logistic output above this probability predicts the positive class (binary)
# or the presence of a label (multilabel).
DECISION_THRESHOLD = 0.5


@fill_shared_sections
class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier trained by Adam, SGD or L-BFGS.

    A drop-in replacement for scikit-learn's ``MLPClassifier``: the same
    parameters with the same meaning and defaults. Three parameters are
    added: ``l1``, ``dropout`` and ``n_threads``. Training minimises the
    cross-entropy plus the penalties. Adam and SGD run all epochs in one call
    into the compiled core; L-BFGS runs SciPy's L-BFGS-B on the core's loss
    and gradient over the whole training set.

    The output layer follows the targets: one logistic unit for two classes,
    a softmax over the classes for more, and one logistic unit per label for
    a multilabel indicator matrix.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=(100,)
        Width of each hidden layer, from the input side. An empty tuple gives
        a network without hidden layers (logistic or softmax regression).
    $parameters_before_early_stopping
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data, compute the
        accuracy on it after each epoch, stop when it has not improved by at
        least ``tol`` for more than ``n_iter_no_change`` epochs and keep the
        weights of the best epoch. The split is scikit-learn's for the same
        int ``random_state``: stratified for binary targets only, as
        scikit-learn 1.9.1 does. Sample weights are split with the samples
        and weigh the accuracy. ``partial_fit`` raises ValueError when it
        is True, and lbfgs ignores it.
    $parameters_after_early_stopping

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted. For multilabel targets, the column indices.
    $weight_attributes
    loss_ : float
        Training loss of the last epoch, or with lbfgs at the final weights:
        mean cross-entropy plus penalties.
    $best_loss_attribute
    validation_scores_ : list of float or None
        Accuracy on the validation set after each epoch (subset accuracy for
        multilabel targets), warm-start fits appended. None without early
        stopping.
    best_validation_score_ : float or None
        Best validation accuracy, whose weights the model keeps. None
        without early stopping.
    $history_and_shape_attributes
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
    Not implemented yet: sparse X (sparse matrices raise TypeError, so
    convert them with ``.toarray()``). Negative sample weights raise
    ValueError, where scikit-learn accepts them.

    $interrupt_note

    $warm_start_note

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
    >>> lbfgs = MLPClassifier(hidden_layer_sizes=(16,), solver="lbfgs", random_state=0)
    >>> bool(lbfgs.fit(X, y).score(X, y) > 0.95)
    True
    """

    _numeric_targets = False

    def __init__(
        self,
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
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one epoch, continuing from the current weights and optimizer.

        The optimizer of the previous ``fit`` or ``partial_fit`` carries
        over, as in scikit-learn: SGD's velocities, Adam's moments and step
        count, and the learning rate of the "invscaling" and "adaptive"
        schedules. Its settings (solver, learning_rate, learning_rate_init,
        power_t, momentum, nesterovs_momentum, beta_1, beta_2, epsilon) stay
        as they were when it was created, until the next ``fit``. An
        unpickled estimator starts a new optimizer. Only the stochastic
        solvers have this method: with ``solver="lbfgs"`` accessing it
        raises AttributeError.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,) or float, default=None
            Weight of each sample, as in `fit`.
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
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

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

    def _score_output(self, output, y, targets, sample_weight=None):
        """Return the accuracy of the labels predicted from output.

        For multilabel targets this is the subset accuracy: a sample counts
        only when all its labels are right. Sample weights weigh the samples.
        """
        multilabel = _is_multilabel(targets["out_activation_"], targets["n_outputs_"])
        labels = _labels_from_output(output, targets["classes_"], multilabel)
        return accuracy_score(y, labels, sample_weight=sample_weight)

    def _prepare_targets(self, y, continuing, classes):
        """Encode labels for MLP.fit; return (Y, fitted target attributes)."""
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
