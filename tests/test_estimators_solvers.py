"""Adam, the learning-rate schedules and lbfgs in the estimators, against sklearn."""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from fastmlp import MLP, MLPClassifier, MLPRegressor, _estimator_base


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Run every test with one BLAS thread.

    SciPy's L-BFGS-B calls BLAS on vectors of a few hundred entries, where
    waking BLAS threads on a busy machine costs many times the work.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def load(kind):
    """Return (X, y, fastmlp class, scikit-learn class) for a kind of target.

    Iris for the classifiers (two of its classes for "binary", three
    derived labels for "multilabel") and diabetes for the regressors (with
    two derived outputs for "multi-output"), standardised.
    """
    if kind in ("regression", "multi-output"):
        X, y = load_diabetes(return_X_y=True)
        X = StandardScaler().fit_transform(X)
        y = (y - y.mean()) / y.std()
        if kind == "multi-output":
            y = np.column_stack([y, y**2, -y])
        return X, y, MLPRegressor, neural_network.MLPRegressor
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if kind == "binary":
        y = y == 1
    elif kind == "multilabel":
        y = np.column_stack([y == 0, y == 2, X[:, 0] > 0]).astype(int)
    return X, y, MLPClassifier, neural_network.MLPClassifier


def quiet_fit(model, X, y, **fit_params):
    """Fit model, ignoring ConvergenceWarning; return it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y, **fit_params)


def fit_from_same_weights(ours, theirs, X, y, epochs, sample_weight=None):
    """Fit both for `epochs` epochs (lbfgs: iterations) from the same weights.

    A fit with max_iter=1 creates the fitted attributes. Both then get the
    same random weights and continue with warm_start, which starts a new
    optimizer on both sides. Only ``loss_curve_[1:]`` covers the common run.
    """
    rng = np.random.default_rng(1)
    quiet_fit(ours.set_params(max_iter=1), X, y, sample_weight=sample_weight)
    quiet_fit(theirs.set_params(max_iter=1), X, y, sample_weight=sample_weight)
    coefs = [rng.uniform(-0.3, 0.3, coef.shape) for coef in theirs.coefs_]
    intercepts = [rng.uniform(-0.3, 0.3, b.shape) for b in theirs.intercepts_]
    for model in (ours, theirs):
        model.coefs_ = [coef.copy() for coef in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        model.set_params(warm_start=True, max_iter=epochs)
        quiet_fit(model, X, y, sample_weight=sample_weight)


def assert_same_training(ours, theirs, rtol=1e-9):
    """Assert that both models trained alike: iterations, losses and weights."""
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=rtol)
    if hasattr(theirs, "loss_curve_"):
        np.testing.assert_allclose(
            ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=rtol
        )
    for coef, expected in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(coef, expected, rtol=rtol, atol=1e-12)
    for intercept, expected in zip(ours.intercepts_, theirs.intercepts_):
        np.testing.assert_allclose(intercept, expected, rtol=rtol, atol=1e-12)


STOCHASTIC_SETTINGS = {
    "batch_size": 32,
    "alpha": 1e-3,
    "learning_rate_init": 0.05,
    "shuffle": False,
    "n_iter_no_change": 100,
}


# Adam ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("multiclass", {"hidden_layer_sizes": (7, 5), "activation": "tanh"}),
        ("binary", {"hidden_layer_sizes": (4,), "beta_1": 0.8, "beta_2": 0.99}),
        ("multilabel", {"hidden_layer_sizes": (5,), "epsilon": 1e-4}),
        ("multi-output", {"hidden_layer_sizes": (8,), "learning_rate_init": 0.01}),
    ],
)
def test_adam_training_matches_sklearn(kind, settings):
    X, y, ours_class, theirs_class = load(kind)
    settings = {**STOCHASTIC_SETTINGS, "solver": "adam", **settings}
    ours, theirs = ours_class(**settings), theirs_class(**settings)

    fit_from_same_weights(ours, theirs, X, y, epochs=15)

    # float64 on both sides, the same operations summed in another order: the
    # differences stay at rounding level over 15 epochs.
    assert_same_training(ours, theirs)


def test_adam_ignores_momentum_and_schedule():
    X, y, _, _ = load("multiclass")
    # tol=100: every epoch after the first is a stall, which the "adaptive"
    # schedule would handle by lowering the rate instead of stopping.
    settings = {**STOCHASTIC_SETTINGS, "solver": "adam", "tol": 100.0}
    settings.update(n_iter_no_change=1, max_iter=10, random_state=0)
    plain = MLPClassifier(**settings).fit(X, y)

    ignored = {"momentum": 0.5, "nesterovs_momentum": False, "power_t": 0.1}
    other = MLPClassifier(**settings, learning_rate="adaptive", **ignored).fit(X, y)

    # As with the constant rate, training stops at the first stall.
    assert other.n_iter_ == plain.n_iter_ == 3
    for coef, expected in zip(other.coefs_, plain.coefs_):
        np.testing.assert_array_equal(coef, expected)


@pytest.mark.parametrize("kind", ["multiclass", "regression"])
def test_adam_partial_fit_continues_like_sklearn(kind):
    X, y, ours_class, theirs_class = load(kind)
    settings = {**STOCHASTIC_SETTINGS, "solver": "adam", "hidden_layer_sizes": (6,)}
    ours, theirs = ours_class(**settings), theirs_class(**settings)

    # The warm-start fit starts a new Adam on both sides; partial_fit then
    # continues its moments and step count.
    fit_from_same_weights(ours, theirs, X, y, epochs=2)
    for _ in range(3):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)

    assert len(ours.loss_curve_) == 6
    assert_same_training(ours, theirs)


def test_adam_partial_fit_equals_fit():
    X, y, _, _ = load("multiclass")
    settings = {"solver": "adam", "hidden_layer_sizes": (8,), "random_state": 0}
    fitted = quiet_fit(MLPClassifier(max_iter=4, **settings), X, y)
    stepped = MLPClassifier(**settings)

    for _ in range(4):
        stepped.partial_fit(X, y, classes=np.unique(y))

    np.testing.assert_array_equal(stepped.loss_curve_, fitted.loss_curve_)
    for coef, expected in zip(stepped.coefs_, fitted.coefs_):
        np.testing.assert_array_equal(coef, expected)


def test_adam_divergence_names_solver(monkeypatch):
    X, y, _, _ = load("regression")

    def diverge(*args, **kwargs):
        raise RuntimeError("training diverged: the loss of batch 1 in epoch 1 is nan")

    monkeypatch.setattr(MLP, "_fit", diverge)
    with pytest.raises(ValueError, match="Adam diverged to a non-finite loss"):
        MLPRegressor().fit(X, y)


# Learning-rate schedules -------------------------------------------------------


@pytest.mark.parametrize(("kind", "rate"), [("multiclass", 0.5), ("regression", 0.05)])
def test_invscaling_matches_sklearn(kind, rate):
    X, y, ours_class, theirs_class = load(kind)
    settings = {
        **STOCHASTIC_SETTINGS,
        "solver": "sgd",
        "hidden_layer_sizes": (6,),
        "learning_rate": "invscaling",
        "learning_rate_init": rate,
        "power_t": 0.25,
    }
    ours, theirs = ours_class(**settings), theirs_class(**settings)
    constant = ours_class(**{**settings, "learning_rate": "constant"})

    fit_from_same_weights(ours, theirs, X, y, epochs=10)
    fit_from_same_weights(constant, ours_class(**settings), X, y, epochs=10)

    assert_same_training(ours, theirs)
    # After the first epoch the rate is rate / (t_ + 1) ** 0.25, a fifth of
    # rate or less.
    assert ours._optimizer.schedule.rate < rate / 5
    assert not np.allclose(ours.loss_curve_[2:], constant.loss_curve_[2:])


def test_adaptive_matches_sklearn():
    X, y, _, _ = load("multiclass")
    # tol=100: no epoch improves, so every third epoch lowers the rate,
    # 0.05 / 5**k, until it is at most 1e-6 (k = 7) and the next stall stops.
    settings = {
        **STOCHASTIC_SETTINGS,
        "solver": "sgd",
        "hidden_layer_sizes": (6,),
        "learning_rate": "adaptive",
        "tol": 100.0,
        "n_iter_no_change": 2,
    }
    ours = MLPClassifier(**settings)
    theirs = neural_network.MLPClassifier(**settings)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fit_from_same_weights(ours, theirs, X, y, epochs=100)

    assert ours.n_iter_ == 24
    assert_same_training(ours, theirs)


def number_free(lines):
    """Return the lines with every number replaced by N."""
    return [re.sub(r"\d+(\.\d+)?(e-?\d+)?", "N", line) for line in lines]


def test_adaptive_verbose_lines_like_sklearn(capsys):
    X, y, _, _ = load("multiclass")
    settings = {
        "solver": "sgd",
        "learning_rate": "adaptive",
        "learning_rate_init": 0.01,
        "tol": 100.0,
        "n_iter_no_change": 1,
        "random_state": 0,
        "verbose": True,
    }

    MLPClassifier(**settings).fit(X, y)
    our_lines = capsys.readouterr().out.splitlines()
    neural_network.MLPClassifier(**settings).fit(X, y)
    their_lines = capsys.readouterr().out.splitlines()

    stall = "Training loss did not improve more than tol=100.000000 for 1 consecutive"
    # Epochs 2 and 3 do not improve: more than n_iter_no_change=1 in a row.
    assert our_lines[3] == f"{stall} epochs. Setting learning rate to 0.002000"
    assert our_lines[-1] == f"{stall} epochs. Learning rate too small. Stopping."
    assert number_free(our_lines) == number_free(their_lines)


@pytest.mark.parametrize("schedule", ["invscaling", "adaptive"])
def test_schedule_partial_fit_carries_rate_like_sklearn(schedule):
    X, y, _, _ = load("multiclass")
    # Without momentum the learning rate is all the state SGD carries, so
    # both can continue from the same weights after their first call.
    settings = {
        **STOCHASTIC_SETTINGS,
        "solver": "sgd",
        "hidden_layer_sizes": (6,),
        "momentum": 0.0,
        "learning_rate": schedule,
        "learning_rate_init": 0.5,
        "tol": 100.0,
        "n_iter_no_change": 1,
        "random_state": 0,
    }
    ours = MLPClassifier(**settings)
    theirs = neural_network.MLPClassifier(**settings)
    for model in (ours, theirs):
        model.partial_fit(X, y, classes=np.unique(y))
    coefs = [coef.copy() for coef in theirs.coefs_]
    intercepts = [b.copy() for b in theirs.intercepts_]

    for model in (ours, theirs):
        model.coefs_ = [coef.copy() for coef in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        for _ in range(5):
            model.partial_fit(X, y)

    # invscaling: 0.5 / (t_ + 1) ** 0.5 after each call; adaptive: a fifth
    # of the rate at every second call.
    assert ours._optimizer.schedule.rate < 0.5 / 5
    assert_same_training(ours, theirs)


def test_partial_fit_keeps_optimizer_settings_like_sklearn():
    X, y, _, _ = load("multiclass")
    settings = {**STOCHASTIC_SETTINGS, "solver": "sgd", "hidden_layer_sizes": (6,)}
    ours = MLPClassifier(**settings)
    theirs = neural_network.MLPClassifier(**settings)
    fit_from_same_weights(ours, theirs, X, y, epochs=2)

    # scikit-learn's partial_fit keeps the optimizer of the last fit, so
    # these take effect only at the next fit.
    changes = {"solver": "adam", "learning_rate_init": 0.5, "momentum": 0.1}
    for model in (ours, theirs):
        model.set_params(**changes)
        for _ in range(2):
            model.partial_fit(X, y)

    assert_same_training(ours, theirs)


def test_partial_fit_after_unpickling_starts_new_optimizer():
    X, y, _, _ = load("multiclass")
    settings = {
        "solver": "sgd",
        "learning_rate": "invscaling",
        "learning_rate_init": 0.5,
        "random_state": 0,
    }
    model = quiet_fit(MLPClassifier(max_iter=3, **settings), X, y)

    restored = pickle.loads(pickle.dumps(model))
    restored.partial_fit(X, y)

    assert restored._optimizer.schedule.learning_rate_init == 0.5
    # A new optimizer started at learning_rate_init, with t_ carried over.
    assert restored._optimizer.schedule.rate == pytest.approx(
        0.5 / (4 * 150 + 1) ** 0.5
    )
    assert len(restored.loss_curve_) == 4


# lbfgs ---------------------------------------------------------------------------

LBFGS_CASES = [
    ("multiclass", {"hidden_layer_sizes": (7, 5), "activation": "tanh"}),
    ("binary", {"hidden_layer_sizes": (4,), "activation": "logistic"}),
    ("multilabel", {"hidden_layer_sizes": (5,)}),
    ("regression", {"hidden_layer_sizes": (8,), "alpha": 0.1}),
    ("multi-output", {"hidden_layer_sizes": (8,), "alpha": 0.1}),
]


@pytest.mark.parametrize(("kind", "settings"), LBFGS_CASES)
def test_lbfgs_training_matches_sklearn(kind, settings):
    X, y, ours_class, theirs_class = load(kind)
    settings = {"solver": "lbfgs", "alpha": 1e-3, **settings}
    ours, theirs = ours_class(**settings), theirs_class(**settings)

    fit_from_same_weights(ours, theirs, X, y, epochs=20)

    # Same start, the same float64 math up to summation order: 20 L-BFGS
    # iterations amplify the rounding differences, but they stay near 1e-9.
    assert ours.n_iter_ == 20
    assert_same_training(ours, theirs, rtol=1e-7)


def test_lbfgs_converges_like_sklearn():
    X, y, _, _ = load("multiclass")
    settings = {"solver": "lbfgs", "hidden_layer_sizes": (5,), "alpha": 0.1}
    settings.update(tol=1e-3)
    ours = MLPClassifier(**settings)
    theirs = neural_network.MLPClassifier(**settings)

    with warnings.catch_warnings():
        # max_iter=1 in the first fit warns; the second must converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit_from_same_weights(ours, theirs, X, y, epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        for model in (ours, theirs):
            model.set_params(max_iter=500).fit(X, y)

    assert ours.n_iter_ < 500
    assert_same_training(ours, theirs, rtol=1e-7)


def caught_warnings(model, X, y):
    """Fit model and return the messages of the ConvergenceWarnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [str(w.message) for w in caught if w.category is ConvergenceWarning]


@pytest.mark.parametrize("limit", [{"max_iter": 3}, {"max_fun": 4}])
def test_lbfgs_convergence_warning_like_sklearn(limit):
    X, y, _, _ = load("multiclass")
    settings = {"solver": "lbfgs", "random_state": 0, **limit}

    (ours,) = caught_warnings(MLPClassifier(**settings), X, y)
    (theirs,) = caught_warnings(neural_network.MLPClassifier(**settings), X, y)

    if "max_iter" in limit:
        assert ours.startswith("lbfgs failed to converge after 3 iteration(s)")
        assert ours == theirs
    else:
        assert "F,G EVALUATIONS EXCEEDS LIMIT" in ours
        assert number_free([ours]) == number_free([theirs])


def test_lbfgs_verbose_prints_each_iteration(capsys):
    X, y, _, _ = load("multiclass")
    settings = {"solver": "lbfgs", "max_iter": 4, "random_state": 0}
    calls = []

    printing = quiet_fit(MLPClassifier(verbose=True, **settings), X, y)
    lines = capsys.readouterr().out.splitlines()
    quiet_fit(MLPClassifier(verbose=lambda *args: calls.append(args), **settings), X, y)

    assert len(lines) == 4
    assert lines[-1] == f"Iteration 4, loss = {printing.loss_:.8f}"
    assert [call[0] for call in calls] == [1, 2, 3, 4]
    assert calls[-1][1] == printing.loss_
    assert {call[2] for call in calls} == {None}


class RecordingBar:
    """A stand-in for tqdm that records what the estimator does with its bar."""

    instances = []

    def __init__(self, **options):
        self.options = options
        self.updates = 0
        self.closed = False
        RecordingBar.instances.append(self)

    def set_postfix(self, values, refresh=True):
        self.postfix = dict(values)

    def update(self, n):
        self.updates += n

    def close(self):
        self.closed = True


def test_lbfgs_progress_bar_counts_iterations(monkeypatch):
    X, y, _, _ = load("multiclass")
    RecordingBar.instances.clear()
    monkeypatch.setattr(_estimator_base, "_import_tqdm", lambda: RecordingBar)
    model = MLPClassifier(solver="lbfgs", max_iter=6, progress_bar=True)

    quiet_fit(model, X, y)

    (bar,) = RecordingBar.instances
    assert bar.options == {"total": 6, "unit": "iteration"}
    assert bar.updates == model.n_iter_ == 6
    assert bar.postfix == {"loss": f"{model.loss_:.4g}"}
    assert bar.closed


def test_lbfgs_dropout_raises_before_training(monkeypatch):
    X, y, _, _ = load("multiclass")

    def fail(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(MLP, "_fit_lbfgs", fail)
    model = MLPClassifier(solver="lbfgs", dropout=0.2)
    with pytest.raises(ValueError, match=r"dropout=0.2 needs a stochastic solver"):
        model.fit(X, y)

    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("estimator_class", [MLPClassifier, MLPRegressor])
def test_lbfgs_partial_fit_unavailable(estimator_class):
    X, y = np.zeros((4, 2)), [0, 1, 0, 1]
    model = estimator_class(solver="lbfgs")

    assert not hasattr(model, "partial_fit")
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as error:
        model.partial_fit(X, y)

    assert "only available for the stochastic solvers" in str(error.value.__cause__)
    assert hasattr(estimator_class(solver="sgd"), "partial_fit")


def test_lbfgs_fitted_attributes():
    X, y, _, _ = load("multiclass")
    model = quiet_fit(MLPClassifier(solver="sgd", max_iter=3), X, y)

    model.set_params(solver="lbfgs", max_iter=5, warm_start=True)
    quiet_fit(model, X, y)

    # scikit-learn sets these only for SGD and Adam, and t_ counts their
    # samples: an lbfgs fit leaves it as it was.
    for name in ("loss_curve_", "best_loss_", "validation_scores_"):
        assert not hasattr(model, name), name
    assert model.t_ == 3 * 150
    assert model.n_iter_ == 5
    assert isinstance(model.loss_, float)

    model.set_params(solver="sgd", max_iter=2)
    quiet_fit(model, X, y)

    # Training by SGD again starts a new loss curve.
    assert len(model.loss_curve_) == 2
    assert model.t_ == 5 * 150


def test_lbfgs_warm_start_continues_from_coefs():
    X, y, _, _ = load("multiclass")
    losses = []
    model = MLPClassifier(
        solver="lbfgs",
        max_iter=5,
        warm_start=True,
        random_state=0,
        verbose=lambda iteration, loss, score: losses.append(loss),
    )
    quiet_fit(model, X, y)
    first_loss = model.loss_
    losses.clear()

    quiet_fit(model, X, y)

    # The second fit starts at the first one's weights, so its first
    # iteration already lowers the loss below first_loss.
    assert losses[0] < first_loss
    assert model.loss_ < losses[0]
    assert model.t_ == 0


def test_lbfgs_l1_in_loss_and_weights():
    X, y, _, _ = load("multiclass")
    settings = {"solver": "lbfgs", "alpha": 0.0, "max_iter": 100, "random_state": 0}
    plain = quiet_fit(MLPClassifier(**settings), X, y)
    sparse = quiet_fit(MLPClassifier(l1=1.0, **settings), X, y)

    l1_norm = sum(np.abs(coef).sum() for coef in sparse.coefs_)
    assert l1_norm < sum(np.abs(coef).sum() for coef in plain.coefs_)
    # loss_ is the mean cross-entropy plus l1 * ||W||_1 divided by the number
    # of samples, as scikit-learn divides alpha. Both are float64 sums over
    # 150 samples: 1e-9 leaves room for the summation order.
    data_loss = log_loss(y, sparse.predict_proba(X))
    assert sparse.loss_ == pytest.approx(data_loss + l1_norm / len(X), rel=1e-9)


def test_lbfgs_ignores_early_stopping():
    X, y, _, _ = load("regression")
    settings = {"solver": "lbfgs", "max_iter": 10, "random_state": 0}
    plain = quiet_fit(MLPRegressor(**settings), X, y)

    model = quiet_fit(
        MLPRegressor(early_stopping=True, validation_fraction=0.0, **settings), X, y
    )

    assert not hasattr(model, "validation_scores_")
    for coef, expected in zip(model.coefs_, plain.coefs_):
        np.testing.assert_array_equal(coef, expected)


def test_lbfgs_interrupt_keeps_last_iteration():
    X, y, _, _ = load("multiclass")
    settings = {"solver": "lbfgs", "random_state": 0}
    losses = []

    def interrupt_at_iteration_3(iteration, loss, score):
        losses.append(loss)
        if iteration == 3:
            raise KeyboardInterrupt

    interrupted = MLPClassifier(verbose=interrupt_at_iteration_3, **settings)
    with pytest.warns(UserWarning, match="last completed iteration"):
        interrupted.fit(X, y)
    three = quiet_fit(MLPClassifier(max_iter=3, **settings), X, y)

    assert interrupted.n_iter_ == 3
    assert interrupted.loss_ == losses[-1]
    for coef, expected in zip(interrupted.coefs_, three.coefs_):
        np.testing.assert_array_equal(coef, expected)


def test_lbfgs_float32_input_stays_float32():
    X, y, _, _ = load("multiclass")

    model = quiet_fit(MLPClassifier(solver="lbfgs", random_state=0), X.astype("f4"), y)

    assert all(coef.dtype == np.float32 for coef in model.coefs_)
    assert model.score(X, y) > 0.95
