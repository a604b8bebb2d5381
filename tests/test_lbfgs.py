"""The full-batch objective of the core and the L-BFGS driver built on it."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

import fastmlp
from conftest import make_pair, make_targets, relative_error
from fastmlp import reference

# Rows the core evaluates in one chunk (kObjectiveChunkRows in objective.hpp).
CHUNK_ROWS = 4096


def reference_objective(ref, X, Y, l1, l2, sample_weight=None):
    """Return the penalised loss and flat gradient of the reference model."""
    return reference.objective(ref, X, Y, l1, l2, sample_weight)


def flat(weights, biases):
    """Return the flat parameter vector: per layer W row by row, then b."""
    parts = []
    for W, b in zip(weights, biases):
        parts.extend([np.ravel(W), np.ravel(b)])
    return np.concatenate(parts).astype(np.float64)


@pytest.mark.parametrize("output", ["softmax", "logistic", "identity"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes", [(1, 2), (7, 5, 3), (33, 9, 7, 2)])
def test_objective_matches_reference(isa, sizes, dtype, output):
    rng = np.random.default_rng(3)
    net, ref = make_pair(list(sizes), "tanh", output, dtype)
    X = rng.normal(size=(37, sizes[0])).astype(dtype)
    Y = make_targets(rng, 37, sizes[-1], output).astype(dtype)
    theta = flat(net.weights, net.biases)
    loss, grad = net._core.objective(theta, X, Y, None, 0.01, 0.1, 0)
    expected_loss, expected_grad = reference_objective(
        ref, X.astype(np.float64), Y, 0.01, 0.1
    )
    # float32 rounds every product of a short reduction: 1e-5 relative;
    # float64 differs from the reference only in summation order.
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    assert abs(loss - expected_loss) <= tolerance * abs(expected_loss)
    assert relative_error(grad, expected_grad) <= tolerance


def test_objective_sets_parameters_to_theta():
    net = fastmlp.MLP([3, 4, 2], dtype="float64", seed=0)
    theta = np.linspace(-1, 1, 3 * 4 + 4 + 4 * 2 + 2)
    X = np.ones((2, 3))
    net._core.objective(theta, X, np.eye(2), None, 0.0, 0.0, 0)
    np.testing.assert_array_equal(flat(net.weights, net.biases), theta)


def test_objective_chunks_agree_with_reference():
    # More rows than one chunk, and a partial last chunk.
    rng = np.random.default_rng(4)
    n = 2 * CHUNK_ROWS + 5
    net, ref = make_pair([6, 8, 3], "relu", "softmax", "float64")
    X = rng.normal(size=(n, 6))
    Y = make_targets(rng, n, 3, "softmax")
    loss, grad = net._core.objective(
        flat(net.weights, net.biases), X, Y, None, 0.0, 0.01, 0
    )
    expected_loss, expected_grad = reference_objective(ref, X, Y, 0.0, 0.01)
    # Chunk means weighted by rows / n differ from one mean by rounding only.
    assert abs(loss - expected_loss) <= 1e-12 * abs(expected_loss)
    assert relative_error(grad, expected_grad) <= 1e-12


def test_objective_same_bits_for_any_thread_count():
    rng = np.random.default_rng(5)
    net = fastmlp.MLP([64, 256, 10], dtype="float32", seed=0)
    X = rng.normal(size=(CHUNK_ROWS + 100, 64)).astype(np.float32)
    Y = make_targets(rng, len(X), 10, "softmax").astype(np.float32)
    theta = net._core.flat_parameters()
    results = [net._core.objective(theta, X, Y, None, 1e-3, 1e-3, t) for t in (1, 2, 3)]
    for loss, grad in results[1:]:
        assert loss == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


def test_objective_rejects_wrong_theta_length():
    net = fastmlp.MLP([3, 2], dtype="float64", seed=0)
    with pytest.raises(ValueError, match=r"theta must have shape \(8,\), got \(7,\)"):
        net._core.objective(
            np.zeros(7), np.ones((1, 3)), np.eye(2)[:1], None, 0.0, 0.0, 0
        )


def test_objective_rejects_empty_data():
    net = fastmlp.MLP([3, 2], dtype="float64", seed=0)
    theta = net._core.flat_parameters()
    with pytest.raises(ValueError, match="at least one row"):
        net._core.objective(theta, np.ones((0, 3)), np.ones((0, 2)), None, 0.0, 0.0, 0)


def test_objective_sample_weight_matches_reference():
    rng = np.random.default_rng(8)
    n = CHUNK_ROWS + 50
    net, ref = make_pair([5, 6, 3], "tanh", "softmax", "float64")
    X = rng.normal(size=(n, 5))
    Y = make_targets(rng, n, 3, "softmax")
    weights = rng.uniform(0, 2, n)
    weights[:CHUNK_ROWS] = 0  # a whole chunk of zero weights adds nothing
    theta = flat(net.weights, net.biases)
    loss, grad = net._core.objective(theta, X, Y, weights, 0.01, 0.1, 0)
    expected_loss, expected_grad = reference_objective(ref, X, Y, 0.01, 0.1, weights)
    # float64, differing from the reference only in summation order.
    assert abs(loss - expected_loss) <= 1e-12 * abs(expected_loss)
    assert relative_error(grad, expected_grad) <= 1e-12


def sklearn_initial_parameters(sizes, random_state):
    """Return the weights (n_out, n_in) and biases scikit-learn's MLP starts from."""
    rs = check_random_state(random_state)
    weights, biases = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6 / (n_in + n_out))
        weights.append(rs.uniform(-bound, bound, (n_in, n_out)).T)
        biases.append(rs.uniform(-bound, bound, n_out))
    return weights, biases


def test_fit_lbfgs_retraces_sklearn_from_same_start():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-3
    sklearn_model = MLPClassifier(
        hidden_layer_sizes=(10,),
        solver="lbfgs",
        alpha=alpha,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    net = fastmlp.MLP([4, 10, 3], activation="relu", dtype="float64", seed=0)
    net.weights, net.biases = sklearn_initial_parameters([4, 10, 3], 0)
    history = net.fit(
        X, y, optimizer="lbfgs", epochs=200, l2=alpha, penalty_scaling="batch"
    )
    assert len(history) == sklearn_model.n_iter_
    # Same start and the same float64 math up to summation order: the runs
    # agree to far below the optimizer's own tolerance.
    assert history[-1] == pytest.approx(sklearn_model.loss_, rel=1e-9)
    for W, coef in zip(net.weights, sklearn_model.coefs_):
        np.testing.assert_allclose(W, coef.T, atol=1e-7)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_fit_lbfgs_matches_reference(dtype):
    rng = np.random.default_rng(9)
    net, ref = make_pair([4, 6, 3], "tanh", "softmax", dtype)
    X = rng.normal(size=(60, 4)).astype(dtype)
    y = rng.integers(0, 3, 60)
    weights = rng.uniform(0.5, 2, 60)
    settings = dict(
        optimizer="lbfgs", epochs=15, l1=1e-3, l2=1e-2, sample_weight=weights
    )
    history = net.fit(X, y, **settings)
    expected = ref.fit(X.astype(np.float64), y, **settings)
    assert len(history) == len(expected) == 15
    # float64: summation order only. float32: each step's rounding feeds the
    # next line search, so after 15 iterations allow 1e-3.
    tolerance = 1e-3 if dtype == "float32" else 1e-9
    assert relative_error(history, expected) <= tolerance
    for W, W_ref in zip(net.weights, ref.weights):
        assert relative_error(W, W_ref) <= tolerance


def test_fit_lbfgs_callback_stops():
    rng = np.random.default_rng(6)
    net = fastmlp.MLP([4, 6, 2], dtype="float64", seed=1)
    X = rng.normal(size=(50, 4))
    Y = make_targets(rng, 50, 2, "softmax")
    seen = []

    def callback(iteration, loss):
        seen.append((iteration, loss))
        return iteration == 3

    history = net.fit(X, Y, optimizer="lbfgs", epochs=100, tol=0.0, callback=callback)
    assert [iteration for iteration, _ in seen] == [1, 2, 3]
    assert history == [loss for _, loss in seen]
    assert history[-1] < history[0]


class InterruptingCore:
    """The compiled network, with Ctrl-C arriving during one objective call."""

    def __init__(self, core, interrupt_at_call):
        self.core = core
        self.interrupt_at_call = interrupt_at_call
        self.calls = 0

    def objective(self, theta, *args):
        self.calls += 1
        result = self.core.objective(theta, *args)
        if self.calls == self.interrupt_at_call:
            raise KeyboardInterrupt
        return result

    def __getattr__(self, name):
        return getattr(self.core, name)


def test_fit_lbfgs_interrupt_keeps_last_iterate():
    rng = np.random.default_rng(7)
    net = fastmlp.MLP([4, 6, 2], dtype="float64", seed=1)
    X = rng.normal(size=(50, 4))
    Y = make_targets(rng, 50, 2, "softmax")
    losses = []
    net._core = InterruptingCore(net._core, interrupt_at_call=4)

    def record(iteration, loss):
        losses.append(loss)

    with pytest.raises(KeyboardInterrupt):
        net.fit(X, Y, optimizer="lbfgs", epochs=100, tol=0.0, callback=record)
    # The interrupted call set trial parameters; the model must be back at the
    # last completed iteration, whose loss SciPy reported.
    assert len(losses) >= 1
    loss, _, _ = net.gradients(X, Y)
    assert loss == losses[-1]


def test_fit_lbfgs_leaves_epoch_and_velocities():
    rng = np.random.default_rng(10)
    net = fastmlp.MLP([3, 4, 2], dtype="float64", seed=2)
    X = rng.normal(size=(20, 3))
    y = rng.integers(0, 2, 20)
    net.fit(X, y, epochs=2, momentum=0.9)
    velocities = net._core.get_parameter(0, "vW")
    net.fit(X, y, optimizer="lbfgs", epochs=5)
    assert net.epoch == 2
    np.testing.assert_array_equal(net._core.get_parameter(0, "vW"), velocities)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"dropout": 0.2}, "dropout needs a stochastic optimizer"),
        ({"learning_rate": lambda epoch: 0.1}, "takes no learning_rate schedule"),
        ({"momentum": 0.9}, "momentum applies to optimizer='sgd' only"),
        ({"tol": -1.0}, "tol"),
        ({"max_fun": 0}, "max_fun"),
        ({"epochs": 0}, "epochs"),
    ],
)
def test_fit_lbfgs_rejects_bad_options(settings, message):
    net = fastmlp.MLP([3, 4, 2], dtype="float64", seed=0)
    before = net.weights
    with pytest.raises(ValueError, match=message):
        net.fit(np.ones((4, 3)), [0, 1, 0, 1], optimizer="lbfgs", **settings)
    for W, W_before in zip(net.weights, before):
        np.testing.assert_array_equal(W, W_before)


def test_fit_lbfgs_keeps_pruned_weights_zero():
    rng = np.random.default_rng(11)
    net = fastmlp.MLP([5, 8, 3], dtype="float64", seed=3)
    X = rng.normal(size=(40, 5))
    y = rng.integers(0, 3, 40)
    masks = [rng.random(W.shape) < 0.5 for W in net.weights]
    net.weight_masks = masks
    history = net.fit(X, y, optimizer="lbfgs", epochs=30)
    assert history[-1] < history[0]
    for W, keep in zip(net.weights, masks):
        assert np.all(W[~keep] == 0)
        assert np.any(W[keep] != 0)


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"tol": -1.0}, "tol must be"), ({"max_fun": 0}, "max_fun must be")],
)
def test_fit_checks_lbfgs_options_for_every_optimizer(settings, message):
    net = fastmlp.MLP([3, 4, 2], dtype="float64", seed=0)
    with pytest.raises(ValueError, match=message):
        net.fit(np.ones((4, 3)), [0, 1, 0, 1], optimizer="sgd", **settings)
