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
from fastmlp._lbfgs import fit_lbfgs

# Rows the core evaluates in one chunk (kObjectiveChunkRows in objective.hpp).
CHUNK_ROWS = 4096


def reference_objective(ref, X, Y, l1, l2):
    """Return the penalised loss and flat gradient of the reference model."""
    loss, dW, db = ref.gradients(X, Y)
    loss += reference.penalty(ref.weights, l1, l2)
    parts = []
    for W, dW_l, db_l in zip(ref.weights, dW, db):
        parts.append((dW_l + l2 * W + l1 * np.sign(W)).ravel())
        parts.append(db_l)
    return loss, np.concatenate(parts)


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
    loss, grad = net._core.objective(theta, X, Y, 0.01, 0.1, 0)
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
    net._core.objective(theta, X, np.eye(2), 0.0, 0.0, 0)
    np.testing.assert_array_equal(flat(net.weights, net.biases), theta)


def test_objective_chunks_agree_with_reference():
    # More rows than one chunk, and a partial last chunk.
    rng = np.random.default_rng(4)
    n = 2 * CHUNK_ROWS + 5
    net, ref = make_pair([6, 8, 3], "relu", "softmax", "float64")
    X = rng.normal(size=(n, 6))
    Y = make_targets(rng, n, 3, "softmax")
    loss, grad = net._core.objective(flat(net.weights, net.biases), X, Y, 0.0, 0.01, 0)
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
    results = [net._core.objective(theta, X, Y, 1e-3, 1e-3, t) for t in (1, 2, 3)]
    for loss, grad in results[1:]:
        assert loss == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


def test_objective_rejects_wrong_theta_length():
    net = fastmlp.MLP([3, 2], dtype="float64", seed=0)
    with pytest.raises(ValueError, match=r"theta must have shape \(8,\), got \(7,\)"):
        net._core.objective(np.zeros(7), np.ones((1, 3)), np.eye(2)[:1], 0.0, 0.0, 0)


def test_objective_rejects_empty_data():
    net = fastmlp.MLP([3, 2], dtype="float64", seed=0)
    theta = net._core.flat_parameters()
    with pytest.raises(ValueError, match="at least one row"):
        net._core.objective(theta, np.ones((0, 3)), np.ones((0, 2)), 0.0, 0.0, 0)


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
    result = fit_lbfgs(
        net._core,
        X,
        np.eye(3)[y],
        max_iter=200,
        max_fun=15000,
        tol=1e-4,
        l1=0.0,
        l2=alpha / len(X),
        n_threads=0,
    )
    assert result.n_iter == sklearn_model.n_iter_
    # Same start and the same float64 math up to summation order: the runs
    # agree to far below the optimizer's own tolerance.
    assert result.loss == pytest.approx(sklearn_model.loss_, rel=1e-9)
    for W, coef in zip(net.weights, sklearn_model.coefs_):
        np.testing.assert_allclose(W, coef.T, atol=1e-7)


def test_fit_lbfgs_history_and_callback_stop():
    rng = np.random.default_rng(6)
    net = fastmlp.MLP([4, 6, 2], dtype="float64", seed=1)
    X = rng.normal(size=(50, 4))
    Y = make_targets(rng, 50, 2, "softmax")
    seen = []

    def callback(iteration, loss):
        seen.append((iteration, loss))
        return iteration == 3

    result = fit_lbfgs(
        net._core,
        X,
        Y,
        max_iter=100,
        max_fun=1000,
        tol=0.0,
        l1=0.0,
        l2=0.0,
        n_threads=0,
        callback=callback,
    )
    assert result.stopped_by_callback
    assert [iteration for iteration, _ in seen] == [1, 2, 3]
    assert result.history == [loss for _, loss in seen]
    assert result.history[-1] < result.history[0]


def test_fit_lbfgs_interrupt_keeps_last_iterate():
    rng = np.random.default_rng(7)
    net = fastmlp.MLP([4, 6, 2], dtype="float64", seed=1)
    X = rng.normal(size=(50, 4))
    Y = make_targets(rng, 50, 2, "softmax")
    losses = []

    def callback(iteration, loss):
        losses.append(loss)
        if iteration == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit_lbfgs(
            net._core,
            X,
            Y,
            max_iter=100,
            max_fun=1000,
            tol=0.0,
            l1=0.0,
            l2=0.0,
            n_threads=0,
            callback=callback,
        )
    # The model holds the parameters of iteration 2, whose loss scipy reported.
    loss, _, _ = net.gradients(X, Y)
    assert loss == losses[1]
