"""Numerical faults: extreme inputs, saturated outputs and diverging training.

Predictions stay finite for finite inputs up to 1e30 in either dtype, and
losses of saturated outputs stay finite. Training that overflows stops with a
RuntimeError (MLP) or a ValueError (estimators) after putting back the last
finite model.
"""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from conftest import make_pair, relative_error
from fastmlp import MLP, MLPClassifier, MLPRegressor, reference

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
OUTPUTS = ["softmax", "logistic", "identity"]
DTYPES = ["float32", "float64"]

# Same bounds as the reference agreement tests. float64 does the same arithmetic
# in another summation order, and float32 adds a few units of rounding per layer.
TOLERANCE = {"float32": 1e-4, "float64": 1e-10}

# Widths up to 40 with one, two and three hidden layers. With the default
# initial weights no pre-activation grows past about 1e34 for inputs of 1e30,
# well inside the float32 range (3.4e38).
EXTREME_SIZES = [(6, 3), (6, 40, 17, 3), (6, 31, 40, 9, 3)]
HUGE = 1e30


def _extreme_rows(n_features, dtype):
    """Return rows of +-1e30 inputs: all positive, all negative, mixed signs."""
    rng = np.random.default_rng(0)
    rows = [
        np.full(n_features, HUGE),
        np.full(n_features, -HUGE),
        np.where(np.arange(n_features) % 2 == 0, HUGE, -HUGE),
        np.eye(n_features)[0] * HUGE,
        np.eye(n_features)[-1] * -HUGE,
        rng.normal(size=n_features) * HUGE,
        np.where(np.arange(n_features) % 2 == 0, HUGE, 1e-30),
    ]
    return np.array(rows, dtype=dtype)


def _check_probabilities(P, output, dtype):
    """Assert that P is finite and, for softmax and logistic, a probability."""
    assert np.isfinite(P).all(), P
    if output == "identity":
        return
    assert (P >= 0).all(), P
    assert (P <= 1).all(), P
    if output == "softmax":
        # Each row sums n_out terms, each rounded once.
        eps = np.finfo(dtype).eps
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=4 * eps)


# Extreme inputs -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", EXTREME_SIZES, ids=str)
def test_forward_finite_for_extreme_inputs(sizes, activation, output, dtype):
    net, ref = make_pair(list(sizes), activation, output, dtype)
    X = _extreme_rows(sizes[0], dtype)

    P = net.forward(X)

    _check_probabilities(P, output, dtype)
    assert relative_error(P, ref.forward(X.astype(np.float64))) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("output", OUTPUTS)
def test_gradients_loss_finite_for_extreme_inputs(output, dtype):
    net, ref = make_pair([6, 40, 17, 3], "tanh", output, dtype)
    X = _extreme_rows(6, dtype)
    Y = np.eye(3)[np.arange(len(X)) % 3]

    loss, _, _ = net.gradients(X, Y)

    assert np.isfinite(loss)
    expected, _, _ = ref.gradients(X.astype(np.float64), Y)
    # The loss is of order |z| ~ 1e30 and inherits the relative error of z.
    assert abs(loss - expected) <= TOLERANCE[dtype] * abs(expected)


def _fit_quietly(estimator, X, y):
    """Fit and return the estimator, ignoring warnings about max_iter."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_predict_proba_finite_for_extreme_inputs(n_classes, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6)).astype(dtype)
    y = np.arange(60) % n_classes
    clf = MLPClassifier(hidden_layer_sizes=(17, 9), max_iter=5, random_state=0)
    _fit_quietly(clf, X, y)

    X_extreme = _extreme_rows(6, dtype)
    P = clf.predict_proba(X_extreme)

    assert P.shape == (len(X_extreme), n_classes)
    _check_probabilities(P, "softmax", dtype)
    assert set(clf.predict(X_extreme)) <= set(range(n_classes))


@pytest.mark.parametrize("dtype", DTYPES)
def test_regressor_predict_finite_for_extreme_inputs(dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6)).astype(dtype)
    reg = MLPRegressor(hidden_layer_sizes=(17, 9), max_iter=5, random_state=0)
    _fit_quietly(reg, X, X[:, 0] - X[:, 1])

    prediction = reg.predict(_extreme_rows(6, dtype))

    assert np.isfinite(prediction).all(), prediction


# Saturated outputs --------------------------------------------------------------

# Logits this far from 0 give probabilities of exactly 0 and 1 in both dtypes:
# exp(-1000) underflows to 0 even in float64.
SATURATED = 1000.0


def _one_layer(output, dtype, W):
    """Return an MLP without hidden layers whose weights are W and biases 0."""
    net = MLP([W.shape[1], W.shape[0]], output=output, dtype=dtype, seed=0)
    net.weights = [W]
    return net


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_logistic_gives_finite_loss_and_gradient(dtype):
    # z = (+1000, -1000): y_hat is exactly (1, 0), and both targets are wrong.
    net = _one_layer("logistic", dtype, np.array([[SATURATED], [-SATURATED]]))
    X = np.ones((1, 1), dtype=dtype)
    Y = np.array([[0.0, 1.0]])
    assert net.forward(X).tolist() == [[1.0, 0.0]]

    loss, dW, db = net.gradients(X, Y)

    # Binary cross-entropy from z: max(z, 0) - y z + log1p(exp(-|z|)) per unit.
    assert loss == 2 * SATURATED
    np.testing.assert_array_equal(db[0], [1.0, -1.0])
    np.testing.assert_array_equal(dW[0], [[1.0], [-1.0]])
    history = net.fit(X, Y, epochs=1, learning_rate=1e-12)
    assert history == [2 * SATURATED]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("label", "expected_loss"), [(0, 0.0), (1, 2e3), (2, 1e3)])
def test_saturated_softmax_gives_finite_loss(label, expected_loss, dtype):
    # z = (1000, -1000, 0): y_hat is exactly (1, 0, 0).
    net = _one_layer("softmax", dtype, np.array([[SATURATED], [-SATURATED], [0.0]]))
    X = np.ones((1, 1), dtype=dtype)
    assert net.forward(X).tolist() == [[1.0, 0.0, 0.0]]

    loss, _, db = net.gradients(X, [label])

    # Cross-entropy as logsumexp(z) - z[label]; logsumexp(z) is 1000.
    assert loss == expected_loss
    np.testing.assert_array_equal(db[0], np.eye(3)[0] - np.eye(3)[label])
    assert net.fit(X, [label], epochs=1, learning_rate=1e-12) == [expected_loss]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("coef", "y", "expected_loss"),
    [
        # One logistic unit, z = +-1000 and each label on the wrong side.
        ([[SATURATED]], [0, 1], SATURATED),
        # Softmax over three classes, z = x * (1000, -1000, 0).
        ([[SATURATED, -SATURATED, 0.0]], [1, 0, 2], 2e3 * 2 / 3 + 1e3 / 3),
    ],
    ids=["binary", "multiclass"],
)
def test_classifier_loss_finite_for_saturated_outputs(coef, y, expected_loss):
    # Rows x = 1, -1, and for the third class 1 again.
    X = np.array([[1.0], [-1.0], [1.0]])[: len(y)]
    clf = MLPClassifier(
        hidden_layer_sizes=(),
        alpha=0.0,
        batch_size=len(y),
        learning_rate_init=1e-12,
        momentum=0.0,
        max_iter=1,
        shuffle=False,
        warm_start=True,
        random_state=0,
    )
    clf.fit(X, y)
    clf.coefs_ = [np.array(coef)]
    clf.intercepts_ = [np.zeros(len(coef[0]))]

    clf.fit(X, y)

    assert clf.loss_curve_[-1] == pytest.approx(expected_loss, rel=1e-12)
    assert np.isfinite(clf.loss_)


# Overflow in softmax and logistic -----------------------------------------------

# Logits where exp(z) overflows (float32 from 88.8, float64 from 709.8), up to
# near the largest finite value of each dtype.
OVERFLOWING_LOGITS = {
    "float32": [88.8, 1e4, 1e30, 3e38],
    "float64": [709.8, 1e4, 1e30, 1e300],
}
LOGIT_CASES = [(dtype, c) for dtype, cs in OVERFLOWING_LOGITS.items() for c in cs]


@pytest.mark.parametrize("output", ["softmax", "logistic"])
@pytest.mark.parametrize(("dtype", "c"), LOGIT_CASES)
def test_output_activation_does_not_overflow(output, dtype, c):
    net = _one_layer(output, dtype, np.array([[c], [-c], [0.0]]))
    X = np.array([[1.0], [-1.0]], dtype=dtype)

    P = net.forward(X)

    _check_probabilities(P, output, dtype)
    expected = reference.MLP([1, 3], output=output, dtype="float64")
    expected.weights = [W.astype(np.float64) for W in net.weights]
    # rtol: one float32 rounding of values near 1. atol: probabilities that
    # underflow, such as exp(-88.8), are subnormal or 0 in float32.
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(P, expected.forward(X), rtol=1e-6, atol=tiny)
    for label in range(3):
        loss, dW, db = net.gradients(X, np.eye(3)[[label, label]])
        assert np.isfinite(loss)
        assert all(np.isfinite(g).all() for g in (*dW, *db))


@pytest.mark.parametrize("activation", ["logistic", "tanh"])
@pytest.mark.parametrize(("dtype", "c"), LOGIT_CASES)
def test_saturating_hidden_layer_stays_finite(activation, dtype, c):
    net = MLP([1, 2, 2], activation=activation, dtype=dtype, seed=0)
    net.weights = [np.array([[c], [-c]]), np.array([[1.0, -1.0], [-1.0, 1.0]])]
    X = np.array([[1.0], [-1.0]], dtype=dtype)

    P = net.forward(X)
    loss, dW, db = net.gradients(X, [0, 1])

    _check_probabilities(P, "softmax", dtype)
    assert np.isfinite(loss)
    # phi'(z) is 0 for saturated units, never 0 * inf; near the overflow
    # threshold it is a subnormal number rather than exactly 0.
    assert all(np.isfinite(g).all() for g in (*dW, *db))
    np.testing.assert_allclose(dW[0], 0.0, rtol=0, atol=np.finfo(dtype).tiny)


# Diverging training -------------------------------------------------------------


def _regression(dtype, n=64, scale=1.0):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)).astype(dtype)
    Y = (X @ np.array([1.0, -2.0, 0.5]))[:, None] * scale
    return X, Y.astype(dtype)


def _parameters(net):
    return [W.copy() for W in net.weights] + [b.copy() for b in net.biases]


def _assert_same(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_divergence_in_later_epoch_restores_that_epoch_start(dtype):
    # A step of 2.5 on this least-squares problem multiplies the error every
    # batch, so the loss overflows after many finite epochs.
    X, Y = _regression(dtype)
    net = MLP([3, 1], output="identity", dtype=dtype, seed=0)
    ends = []

    def record(epoch, loss):
        ends.append((net.epoch, _parameters(net)))

    with pytest.raises(RuntimeError) as error:
        net.fit(
            X,
            Y,
            epochs=500,
            batch_size=8,
            learning_rate=2.5,
            shuffle=False,
            callback=record,
        )

    completed, parameters = ends[-1]
    assert completed > 5, "the test needs a divergence after several epochs"
    assert net.epoch == completed
    _assert_same(_parameters(net), parameters)
    assert f"of epoch {completed + 1}: the loss became inf" in str(error.value)
    assert "the model was restored to its state at the start of that epoch" in str(
        error.value
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_overflowing_last_update_restores_model(dtype):
    # One batch per epoch: the loss of the batch is finite, and only the weights
    # after its update overflow, which the end-of-epoch check catches.
    X, Y = _regression(dtype, n=16, scale=1000.0)
    options = dict(batch_size=16, learning_rate=0.001, momentum=0.9)
    net = MLP([3, 5, 1], activation="tanh", output="identity", dtype=dtype, seed=0)
    twin = MLP([3, 5, 1], activation="tanh", output="identity", dtype=dtype, seed=0)
    net.fit(X, Y, epochs=2, **options)
    twin.fit(X, Y, epochs=2, **options)
    huge_step = float(np.finfo(dtype).max)

    with pytest.raises(
        RuntimeError,
        match=r"^training diverged at the end of epoch 3: a weight, or an output of "
        r"the last batch, became NaN or "
        r"infinite; the model was restored",
    ):
        net.fit(X, Y, epochs=3, **dict(options, learning_rate=huge_step))

    assert net.epoch == 2
    _assert_same(_parameters(net), _parameters(twin))
    # Velocities and the epoch counter were restored too: training goes on
    # exactly as for a model that never saw the failed call.
    assert net.fit(X, Y, epochs=2, **options) == twin.fit(X, Y, epochs=2, **options)
    _assert_same(_parameters(net), _parameters(twin))


def test_fit_rejects_update_that_overflows_predictions():
    # One step of 5e18 on a squared error of 1e19 sets W to 2e38, still finite
    # in float32, and W x = 8e38 is not.
    net = MLP([1, 1], output="identity", dtype="float32", seed=0)
    X = np.array([[4.0]], dtype=np.float32)
    Y = np.array([[1e19]], dtype=np.float32)
    before = _parameters(net)

    with pytest.raises(RuntimeError, match="training diverged"):
        net.fit(X, Y, epochs=1, batch_size=1, learning_rate=5e18)

    _assert_same(_parameters(net), before)
    assert np.isfinite(net.forward(X)).all()


def _fitted_attributes(estimator):
    """Return copies of the attributes a fit sets, for exact comparison."""
    return {
        "coefs_": [c.copy() for c in estimator.coefs_],
        "intercepts_": [b.copy() for b in estimator.intercepts_],
        "loss_curve_": list(estimator.loss_curve_),
        "n_iter_": estimator.n_iter_,
        "t_": estimator.t_,
        "best_loss_": estimator.best_loss_,
    }


def _assert_same_fitted(after, before):
    assert after.keys() == before.keys()
    for name, value in before.items():
        if name in ("coefs_", "intercepts_"):
            _assert_same(after[name], value)
        else:
            assert after[name] == value, name


ESTIMATORS = {
    "classifier": lambda: MLPClassifier(hidden_layer_sizes=(5,), random_state=0),
    "regressor": lambda: MLPRegressor(hidden_layer_sizes=(5,), random_state=0),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    ("method", "early_stopping"),
    # partial_fit rejects early stopping, as scikit-learn's does.
    [("fit", False), ("fit", True), ("partial_fit", False)],
)
@pytest.mark.parametrize("kind", list(ESTIMATORS))
def test_estimator_divergence_keeps_fitted_model(kind, method, early_stopping):
    X, Y = _regression("float32")
    y = Y[:, 0] if kind == "regressor" else (Y[:, 0] > 0).astype(int)
    estimator = ESTIMATORS[kind]().set_params(
        solver="sgd", max_iter=3, warm_start=True, early_stopping=early_stopping
    )
    estimator.fit(X, y)
    before = _fitted_attributes(estimator)
    predictions = estimator.predict(X)

    if method == "partial_fit":
        # partial_fit keeps the rate of the optimizer it continues, as
        # scikit-learn's does. An unpickled estimator has none to continue, so
        # its partial_fit starts one with the rate set below.
        estimator = pickle.loads(pickle.dumps(estimator))
    estimator.set_params(learning_rate_init=1e38)
    train = getattr(estimator, method)
    extra = (
        {"classes": [0, 1]} if kind == "classifier" and method == "partial_fit" else {}
    )
    with pytest.raises(ValueError, match="SGD diverged to a non-finite loss"):
        # Gradients of order 1e6 times a step of 1e38 overflow float32 at once.
        train(X * 1e6, y, **extra)

    _assert_same_fitted(_fitted_attributes(estimator), before)
    np.testing.assert_array_equal(estimator.predict(X), predictions)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_estimator_late_divergence_keeps_fitted_model():
    # Linear least squares with a step of 2.5 grows the error every batch, so
    # this warm-start fit diverges only after a dozen finite epochs, whose
    # losses and weights must not reach the estimator either.
    X, Y = _regression("float32")
    reg = MLPRegressor(
        hidden_layer_sizes=(),
        solver="sgd",
        batch_size=8,
        shuffle=False,
        momentum=0.0,
        learning_rate_init=0.01,
        max_iter=3,
        warm_start=True,
        random_state=0,
    )
    reg.fit(X, Y[:, 0])
    before = _fitted_attributes(reg)
    predictions = reg.predict(X)

    reg.set_params(learning_rate_init=2.5, max_iter=200, n_iter_no_change=np.inf)
    with pytest.raises(ValueError, match="SGD diverged to a non-finite loss") as error:
        reg.fit(X, Y[:, 0])

    diverged_epoch = int(re.search(r"of epoch (\d+)", str(error.value)).group(1))
    assert diverged_epoch > 5, "the test needs a divergence after several epochs"
    _assert_same_fitted(_fitted_attributes(reg), before)
    np.testing.assert_array_equal(reg.predict(X), predictions)
