"""The Hessian diagonal of Optimal Brain Damage: core against reference, and
against central differences of the gradient where the approximation is exact.
"""

import numpy as np
import pytest

from conftest import make_pair, make_targets, relative_error
from fastmlp import MLP, reference

# As in test_reference_agreement. Both float64 sides do the same arithmetic in
# differently grouped sums. float32 meets a float64 reference fed the same
# float32-rounded inputs, after reductions of a few hundred terms.
TOLERANCE = {"float64": 1e-10, "float32": 1e-4}

# (sizes, n): widths of 1 and odd widths run the SIMD tails, one to three
# hidden layers, and 300 rows of (70, 65, 33, 10) reach the packed GEMM.
CASES = [
    ((1, 1), 1),
    ((3, 1), 5),
    ((4, 7, 3), 67),
    ((7, 1, 4), 5),
    ((5, 33, 7, 2), 67),
    ((6, 16, 9, 5, 3), 5),
    ((70, 65, 33, 10), 300),
]
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
OUTPUTS = ["softmax", "logistic", "identity"]
DTYPES = ["float64", "float32"]

# Softmax needs two output units.
OUTPUT_CASES = [
    (sizes, n, output)
    for sizes, n in CASES
    for output in OUTPUTS
    if not (output == "softmax" and sizes[-1] == 1)
]


def _data(sizes, n, output, dtype, seed=0):
    """Return X and Y in dtype."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    Y = make_targets(rng, n, sizes[-1], output).astype(dtype)
    return X, Y


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize(("sizes", "n", "output"), OUTPUT_CASES)
def test_hessian_diagonal_matches_reference(sizes, n, output, activation, dtype):
    net, ref = make_pair(sizes, activation, output, dtype)
    X, Y = _data(sizes, n, output, dtype)

    got = net.hessian_diagonal(X, Y)
    want = ref.hessian_diagonal(X.astype(np.float64))

    assert len(got) == len(sizes) - 1
    for l, (H, H_ref) in enumerate(zip(got, want)):
        assert H.shape == (sizes[l + 1], sizes[l])
        assert H.dtype == np.dtype(dtype)
        assert relative_error(H, H_ref) < TOLERANCE[dtype]


@pytest.mark.parametrize("output", OUTPUTS)
def test_hessian_diagonal_sums_chunks(output):
    # 4500 rows run in three chunks of at most 2048 in the core.
    sizes = (5, 6, 3)
    net, ref = make_pair(sizes, "tanh", output, "float64")
    X, _ = _data(sizes, 4500, output, "float64")

    got = net.hessian_diagonal(X)
    want = ref.hessian_diagonal(X)

    for H, H_ref in zip(got, want):
        assert relative_error(H, H_ref) < TOLERANCE["float64"]


def test_hessian_diagonal_is_non_negative():
    net, _ = make_pair((6, 9, 7, 4), "tanh", "softmax", "float64")
    X, _ = _data((6, 9, 7, 4), 50, "softmax", "float64")

    for H in net.hessian_diagonal(X):
        assert (H >= 0).all()


def test_hessian_diagonal_ignores_targets():
    sizes = (4, 5, 3)
    net, _ = make_pair(sizes, "relu", "softmax", "float64")
    X, Y = _data(sizes, 20, "softmax", "float64")

    with_targets = net.hessian_diagonal(X, Y)
    without = net.hessian_diagonal(X)

    for H, H_without in zip(with_targets, without):
        np.testing.assert_array_equal(H, H_without)


def test_hessian_diagonal_same_bits_for_any_thread_count():
    sizes = (70, 65, 33, 10)
    net, _ = make_pair(sizes, "relu", "softmax", "float32")
    X, _ = _data(sizes, 3000, "softmax", "float32")

    net.n_threads = 1
    one = net.hessian_diagonal(X)
    net.n_threads = 2
    two = net.hessian_diagonal(X)

    for H_one, H_two in zip(one, two):
        np.testing.assert_array_equal(H_one, H_two)


def test_hessian_diagonal_rejects_bad_targets():
    net = MLP([3, 2], output="softmax", dtype="float64", seed=0)
    X = np.zeros((4, 3))

    with pytest.raises(ValueError, match=r"Y must have shape \(4, 2\)"):
        net.hessian_diagonal(X, np.zeros((5, 2)))


def test_hessian_diagonal_rejects_wrong_feature_count():
    net = MLP([3, 2], output="softmax", dtype="float64", seed=0)

    with pytest.raises(ValueError, match="X has 4 features"):
        net.hessian_diagonal(np.zeros((2, 4)))


# Central differences of the gradient with step h have truncation error of
# order h^2 |f'''|, and rounding error of order eps |g| / h: h = 1e-5 keeps
# both near 1e-10 for gradients of order 1.
STEP = 1e-5
# Output widths: softmax needs two units, the others also run with one.
NO_HIDDEN_CASES = [
    ("softmax", 3),
    ("logistic", 1),
    ("logistic", 3),
    ("identity", 1),
    ("identity", 3),
]


@pytest.mark.parametrize("model_class", [MLP, reference.MLP])
@pytest.mark.parametrize(("output", "n_out"), NO_HIDDEN_CASES)
def test_hessian_diagonal_matches_finite_differences(model_class, output, n_out):
    # Without a hidden layer z = W x + b is linear in W, and d2E/dw_oj^2
    # involves only d2E/dz_o^2, which is exact for all three output pairs: the
    # approximation drops nothing, so the diagonal is the true one.
    rng = np.random.default_rng(7)
    n_in, n = 5, 9
    net = model_class([n_in, n_out], output=output, dtype="float64", seed=0)
    net.biases = [rng.uniform(-0.5, 0.5, n_out)]
    X = rng.normal(size=(n, n_in))
    Y = make_targets(rng, n, n_out, output)
    W = net.weights[0].copy()

    H = net.hessian_diagonal(X, Y)[0]

    H_numeric = np.empty_like(W)
    for o in range(n_out):
        for j in range(n_in):
            gradients = []
            for sign in (1, -1):
                W_shifted = W.copy()
                W_shifted[o, j] += sign * STEP
                net.weights = [W_shifted]
                gradients.append(net.gradients(X, Y)[1][0][o, j])
            H_numeric[o, j] = (gradients[0] - gradients[1]) / (2 * STEP)
    net.weights = [W]

    np.testing.assert_allclose(H, H_numeric, rtol=1e-6, atol=1e-9)
