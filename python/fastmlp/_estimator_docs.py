"""Docstring sections shared by MLPClassifier and MLPRegressor.

The two estimators document most of their parameters, fitted attributes and
notes in the same words. Their class docstrings name each shared section by a
``$name`` marker on a line of its own, and `fill_shared_sections` replaces the
markers, so that each class's ``__doc__``, which help() shows, is complete.
"""

import string

# Each section is indented as the body of a class docstring.
SHARED_SECTIONS = {
    "parameters_before_early_stopping": """\
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
        it by at least tol. With early stopping, an epoch improves on the best
        validation score only if it raises it by at least tol. For lbfgs,
        SciPy's ``gtol``: training stops once no component of the projected
        gradient exceeds tol.
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
""",
    "parameters_after_early_stopping": """\
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
""",
    "weight_attributes": """\
    coefs_ : list of ndarray
        ``coefs_[i]`` of shape (n_units_in, n_units_out) holds the weights
        from layer i to layer i + 1, in the training dtype.
    intercepts_ : list of ndarray
        ``intercepts_[i]`` of shape (n_units_out,) holds the biases of layer
        i + 1.
""",
    "best_loss_attribute": """\
    best_loss_ : float or None
        Lowest epoch loss reached, over this fit and earlier warm starts.
        None with early stopping: see ``best_validation_score_``. Set by
        "sgd" and "adam" only, like the next three attributes: an lbfgs fit
        removes them, where scikit-learn 1.9.1 leaves those of an earlier
        stochastic fit in place.
""",
    "history_and_shape_attributes": """\
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
""",
    "interrupt_note": """\
    On Ctrl-C, training stops after the current batch (lbfgs: the last
    completed iteration), ``fit`` warns and returns the model trained so far.
""",
    "warm_start_note": """\
    With ``warm_start=True`` early stopping carries ``validation_scores_``,
    ``best_validation_score_`` and the count of epochs without improvement
    over from the previous fit, as scikit-learn does. If that fit used the
    other stopping criterion, the record of the new one starts afresh,
    where scikit-learn 1.9.1 raises an AttributeError or TypeError.
""",
}

# The text that replaces each marker: the marker's own line supplies the first
# line's indentation and the line break after the last line.
_MARKER_TEXT = {name: text.strip() for name, text in SHARED_SECTIONS.items()}


def fill_shared_sections(cls):
    """Replace the ``$name`` markers in the docstring of cls; return cls.

    Raises KeyError for a marker that names no section in SHARED_SECTIONS. A
    docstring that ``python -OO`` removed stays None.
    """
    if cls.__doc__ is not None:
        cls.__doc__ = string.Template(cls.__doc__).substitute(_MARKER_TEXT)
    return cls
