"""Central-difference checks of the analytic gradients, in float64.

Every hidden activation is paired with every output/loss pair, with and without
dropout (fixed masks), for the NumPy reference and for the compiled model.
"""

import numpy as np
import pytest

from fastmlp import MLP, reference

HIDDEN_ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

# Name -> (output activation, output width). "softmax_labels" passes integer
# class indices instead of probability rows.
OUTPUT_CASES = {
    "softmax": ("softmax", 3),
    "softmax_labels": ("softmax", 3),
    "logistic_binary": ("logistic", 1),
    "logistic_multilabel": ("logistic", 3),
    "identity_single": ("identity", 1),
    "identity_multi": ("identity", 3),
}

# Two hidden layers, so the gradient also passes a hidden-to-hidden layer.
N_SAMPLES = 6
HIDDEN_SIZES = [4, 5, 3]

# One probability for the input layer and each hidden layer.
DROPOUT = [0.25, 0.5, 0.3]

# Central differences with step h have truncation error ~h^2 |f'''| / 6 and
# rounding error ~eps |f| / h, so h = 1e-5 balances them near 1e-10 for
# losses of order 1.
STEP = 1e-5

# Hidden pre-activations stay this far from 0, so a step of STEP in one
# parameter never moves a relu across its kink.
KINK_MARGIN = 1e-3


@pytest.fixture(params=["reference", "compiled"])
def model_class(request):
    return reference.MLP if request.param == "reference" else MLP


def make_targets(case, rng):
    """Draw targets of the given output case for N_SAMPLES samples."""
    output, n_out = OUTPUT_CASES[case]
    if case == "softmax":
        return rng.dirichlet(np.ones(n_out), N_SAMPLES)
    if case == "softmax_labels":
        return rng.integers(0, n_out, N_SAMPLES)
    if output == "logistic":
        Y = rng.integers(0, 2, (N_SAMPLES, n_out)).astype(np.float64)
        return Y[:, 0] if n_out == 1 else Y
    Y = rng.standard_normal((N_SAMPLES, n_out))
    return Y[:, 0] if n_out == 1 else Y


def draw_masks(rng, sizes):
    """Draw keep-masks for the input and hidden layers with DROPOUT's rates."""
    return [rng.random((N_SAMPLES, size)) >= p for size, p in zip(sizes, DROPOUT)]


def hidden_margin(X, W, b, activation, output, masks):
    """Return the smallest |z| over every hidden pre-activation of the batch."""
    p = DROPOUT if masks is not None else None
    Z, _ = reference.forward(X, W, b, activation, output, masks, p)
    return min(np.abs(Z_l).min() for Z_l in Z[1:-1])


def make_problem(model_class, activation, case, with_dropout):
    """Build a float64 net, a batch and masks whose hidden z avoid 0.

    Seeds are tried in order until every hidden pre-activation is at least
    KINK_MARGIN from 0, so the same problem is built for every model class.
    """
    output, n_out = OUTPUT_CASES[case]
    sizes = [*HIDDEN_SIZES, n_out]
    for seed in range(100):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((N_SAMPLES, sizes[0]))
        Y = make_targets(case, rng)
        W = [rng.uniform(-1, 1, (m, k)) for k, m in zip(sizes[:-1], sizes[1:])]
        b = [rng.uniform(-0.5, 0.5, m) for m in sizes[1:]]
        masks = draw_masks(rng, sizes) if with_dropout else None
        if hidden_margin(X, W, b, activation, output, masks) > KINK_MARGIN:
            break
    else:
        pytest.fail("no seed below 100 keeps the hidden pre-activations off 0")

    net = model_class(sizes, activation=activation, output=output, dtype="float64")
    net.weights = W
    net.biases = b
    dropout = DROPOUT if with_dropout else None
    return net, X, Y, dropout, masks


def numerical_gradients(net, X, Y, dropout, masks, sample_weight=None):
    """Return central-difference gradients of the mean loss for every parameter."""
    W = [W_l.copy() for W_l in net.weights]
    b = [b_l.copy() for b_l in net.biases]

    def loss_at():
        net.weights = W
        net.biases = b
        return net.gradients(
            X, Y, dropout=dropout, masks=masks, sample_weight=sample_weight
        )[0]

    dW = [np.zeros_like(W_l) for W_l in W]
    db = [np.zeros_like(b_l) for b_l in b]
    for parameters, gradients in ((W, dW), (b, db)):
        for theta, d_theta in zip(parameters, gradients):
            for index in np.ndindex(theta.shape):
                original = theta[index]
                theta[index] = original + STEP
                loss_plus = loss_at()
                theta[index] = original - STEP
                loss_minus = loss_at()
                theta[index] = original
                d_theta[index] = (loss_plus - loss_minus) / (2 * STEP)
    loss_at()
    return dW, db


def relative_error(analytic, numeric):
    """Return ||analytic - numeric|| / ||numeric||."""
    return np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric)


@pytest.mark.parametrize("with_dropout", [False, True], ids=["plain", "dropout"])
@pytest.mark.parametrize("case", list(OUTPUT_CASES))
@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_gradients_match_central_differences(
    model_class, activation, case, with_dropout
):
    net, X, Y, dropout, masks = make_problem(
        model_class, activation, case, with_dropout
    )

    _, dW, db = net.gradients(X, Y, dropout=dropout, masks=masks)
    numeric_dW, numeric_db = numerical_gradients(net, X, Y, dropout, masks)

    for l in range(len(dW)):
        # A gradient of ~0 would make the comparison below pass vacuously.
        assert np.linalg.norm(numeric_dW[l]) > 1e-4, f"dW[{l}] is ~0"
        assert np.linalg.norm(numeric_db[l]) > 1e-4, f"db[{l}] is ~0"
        # Differences are accurate to ~1e-9 relative (see STEP), while a wrong
        # sign, factor or missing term gives errors of order 1.
        assert relative_error(dW[l], numeric_dW[l]) < 1e-6, f"dW[{l}]"
        assert relative_error(db[l], numeric_db[l]) < 1e-6, f"db[{l}]"


@pytest.mark.parametrize("with_dropout", [False, True], ids=["plain", "dropout"])
@pytest.mark.parametrize("case", list(OUTPUT_CASES))
def test_weighted_gradients_match_central_differences(model_class, case, with_dropout):
    net, X, Y, dropout, masks = make_problem(model_class, "tanh", case, with_dropout)
    # Uneven weights and one zero, so a wrong weighting shows in every layer.
    weights = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])

    _, dW, db = net.gradients(X, Y, dropout=dropout, masks=masks, sample_weight=weights)
    numeric_dW, numeric_db = numerical_gradients(net, X, Y, dropout, masks, weights)
    _, plain_dW, _ = net.gradients(X, Y, dropout=dropout, masks=masks)

    for l in range(len(dW)):
        assert np.linalg.norm(numeric_dW[l]) > 1e-4, f"dW[{l}] is ~0"
        assert np.linalg.norm(numeric_db[l]) > 1e-4, f"db[{l}] is ~0"
        # Accuracy as in test_gradients_match_central_differences.
        assert relative_error(dW[l], numeric_dW[l]) < 1e-6, f"dW[{l}]"
        assert relative_error(db[l], numeric_db[l]) < 1e-6, f"db[{l}]"
        # The weights matter: the unweighted gradient is far off.
        assert relative_error(plain_dW[l], numeric_dW[l]) > 1e-2, f"dW[{l}]"


def test_gradients_differ_with_dropout(model_class):
    net, X, Y, _, masks = make_problem(model_class, "tanh", "softmax", True)

    loss_plain, dW_plain, _ = net.gradients(X, Y)
    loss_dropped, dW_dropped, _ = net.gradients(X, Y, dropout=DROPOUT, masks=masks)

    assert loss_dropped != loss_plain
    for l in range(len(dW_plain)):
        assert not np.allclose(dW_dropped[l], dW_plain[l]), f"dW[{l}]"


def test_dropout_scales_kept_and_zeroes_dropped_units(model_class):
    net, X, Y, _, _ = make_problem(model_class, "tanh", "identity_multi", False)
    W = [W_l.copy() for W_l in net.weights]
    sizes = net.sizes

    # Keep every input, drop hidden unit 0 of layer 1 in every sample, keep the
    # rest of layer 1, and leave layer 2 undropped.
    masks = [
        np.ones((N_SAMPLES, sizes[0]), dtype=bool),
        np.ones((N_SAMPLES, sizes[1]), dtype=bool),
        None,
    ]
    masks[1][:, 0] = False
    dropout = [0.25, 0.5, 0.0]
    loss_dropped, dW, _ = net.gradients(X, Y, dropout=dropout, masks=masks)

    # The same network without dropout: inputs scaled by 1 / (1 - 0.25), and
    # unit 0 of layer 1 cut off while the other units are scaled by 1 / (1 - 0.5).
    W_equivalent = [W[0] / 0.75, W[1] / 0.5, W[2]]
    W_equivalent[1][:, 0] = 0
    net.weights = W_equivalent
    loss_equivalent = net.gradients(X, Y)[0]

    # Both losses are a few float64 operations apart.
    assert loss_dropped == pytest.approx(loss_equivalent, rel=1e-12)
    # The dropped unit neither receives nor passes on any gradient.
    np.testing.assert_array_equal(dW[0][0], 0)
    np.testing.assert_array_equal(dW[1][:, 0], 0)


# Saturated outputs: X is the 2x2 identity, so Z = W^T (biases 0) and the
# gradients are dW = dZ^T, db = column sums of dZ, with dZ = (y_hat - y) / 2.
SATURATED_CASES = {
    "softmax": {
        "output": "softmax",
        "Z": [[1000, -1000, 0], [-1000, 1000, 0]],
        "Y": np.array([1, 0]),
        # logsumexp(z) = 1000 and z_y = -1000 for both samples.
        "loss": 2000.0,
        "dZ": [[0.5, -0.5, 0], [-0.5, 0.5, 0]],
    },
    "logistic_binary": {
        "output": "logistic",
        "Z": [[1000], [-1000]],
        "Y": np.array([0.0, 1.0]),
        # max(z, 0) - y z = 1000 for both samples, and log1p(exp(-1000)) = 0.
        "loss": 1000.0,
        "dZ": [[0.5], [-0.5]],
    },
    "logistic_multilabel": {
        "output": "logistic",
        "Z": [[1000, -1000, 1000], [-1000, 1000, -1000]],
        "Y": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]]),
        # Two wrong units of 1000 each and one right unit of 0 per sample.
        "loss": 2000.0,
        "dZ": [[0.5, -0.5, 0], [-0.5, 0.5, 0]],
    },
    "identity_single": {
        "output": "identity",
        "Z": [[1000], [-1000]],
        "Y": np.array([0.0, 0.0]),
        "loss": 0.5e6,
        "dZ": [[500], [-500]],
    },
    "identity_multi": {
        "output": "identity",
        "Z": [[1000, -1000, 0], [-1000, 1000, 0]],
        "Y": np.zeros((2, 3)),
        "loss": 1e6,
        "dZ": [[500, -500, 0], [-500, 500, 0]],
    },
}


@pytest.mark.parametrize("case", list(SATURATED_CASES))
def test_gradients_finite_for_saturated_outputs(model_class, case):
    spec = SATURATED_CASES[case]
    Z = np.array(spec["Z"], dtype=np.float64)
    dZ = np.array(spec["dZ"], dtype=np.float64)
    n_out = Z.shape[1]
    net = model_class([2, n_out], output=spec["output"], dtype="float64", seed=0)
    net.weights = [Z.T]
    net.biases = [np.zeros(n_out)]

    loss, dW, db = net.gradients(np.eye(2), spec["Y"])

    assert np.isfinite(loss)
    assert np.isfinite(dW[0]).all()
    assert np.isfinite(db[0]).all()
    # Only a few float64 operations on exactly representable values.
    assert loss == pytest.approx(spec["loss"], rel=1e-12)
    np.testing.assert_allclose(dW[0], dZ.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db[0], dZ.sum(axis=0), rtol=1e-12, atol=1e-12)
