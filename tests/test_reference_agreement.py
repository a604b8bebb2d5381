"""The compiled core against the NumPy reference: forward outputs, gradients, SGD
steps, dropout with shared masks, sample weights and whole training trajectories.

float64 runs must agree within 1e-10 (norm-wise relative error): both sides do
the same arithmetic, in orders that differ only in how sums are grouped.
float32 runs are compared with a float64 reference fed the same float32-rounded
inputs, within 1e-4: a few units of float32 rounding (6e-8) accumulated over
reductions of a few hundred terms and a few dozen updates.
"""

import numpy as np
import pytest

import fastmlp
from conftest import make_pair, make_targets, relative_error

# Every test here runs once per kernel build this CPU supports.
pytestmark = pytest.mark.usefixtures("isa")

TOLERANCE = {"float64": 1e-10, "float32": 1e-4}

# Widths 1 and odd sizes run the SIMD tails. (300, 130, 9) with 300 rows is
# large enough for the packed GEMM path with more than one k block.
SHAPES = [
    (1, 1),
    (3, 1),
    (4, 7, 3),
    (7, 1, 4),
    (5, 33, 7, 2),
    (6, 16, 9, 16, 5, 3),
    (70, 65, 33, 10),
    (300, 130, 9),
]
BATCHES = [1, 5, 67, 300]
ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
OUTPUTS = ["softmax", "logistic", "identity"]
DTYPES = ["float64", "float32"]


def _case_data(sizes, output, n, dtype, seed=0):
    """Return X, Y in the model dtype and their float64 copies for the reference."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    Y = make_targets(rng, n, sizes[-1], output).astype(dtype)
    return X, Y, X.astype(np.float64), Y.astype(np.float64)


def _shape_cases():
    """Yield (sizes, n) pairs: every shape with a small and a large batch."""
    for sizes in SHAPES:
        for n in BATCHES:
            if n == 300 and sizes[0] < 70:
                continue  # large batches only where the packed path runs
            yield sizes, n


SHAPE_CASES = list(_shape_cases())

# Softmax needs at least two output units, so one-output shapes pair with the
# other two outputs only.
OUTPUT_CASES = [
    (sizes, n, output)
    for sizes, n in SHAPE_CASES
    for output in OUTPUTS
    if not (output == "softmax" and sizes[-1] == 1)
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes,n,output", OUTPUT_CASES)
def test_forward_matches_reference(sizes, n, output, activation, dtype):
    net, ref = make_pair(sizes, activation, output, dtype)
    X, _, X64, _ = _case_data(sizes, output, n, dtype)
    out = net.forward(X)
    assert out.shape == (n, sizes[-1])
    assert out.dtype == np.dtype(dtype)
    assert relative_error(out, ref.forward(X64)) < TOLERANCE[dtype]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes,n,output", OUTPUT_CASES)
def test_gradients_match_reference(sizes, n, output, activation, dtype):
    net, ref = make_pair(sizes, activation, output, dtype)
    X, Y, X64, Y64 = _case_data(sizes, output, n, dtype)
    loss, dW, db = net.gradients(X, Y)
    ref_loss, ref_dW, ref_db = ref.gradients(X64, Y64)
    assert isinstance(loss, float)
    assert abs(loss - ref_loss) <= TOLERANCE[dtype] * max(1.0, abs(ref_loss))
    for l in range(len(sizes) - 1):
        assert dW[l].shape == (sizes[l + 1], sizes[l])
        assert db[l].shape == (sizes[l + 1],)
        assert relative_error(dW[l], ref_dW[l]) < TOLERANCE[dtype], f"dW[{l}]"
        assert relative_error(db[l], ref_db[l]) < TOLERANCE[dtype], f"db[{l}]"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes,n", [((5, 33, 7, 2), 9), ((70, 65, 33, 10), 67)])
def test_gradients_with_masks_match_reference(sizes, n, activation, dtype):
    net, ref = make_pair(sizes, activation, "softmax", dtype)
    X, Y, X64, Y64 = _case_data(sizes, "softmax", n, dtype)
    dropout = [0.2] + [0.5] * (len(sizes) - 2)
    masks = net.dropout_masks(0, 0, n, dropout)
    loss, dW, db = net.gradients(X, Y, dropout=dropout, masks=masks)
    ref_loss, ref_dW, ref_db = ref.gradients(X64, Y64, dropout=dropout, masks=masks)
    assert abs(loss - ref_loss) <= TOLERANCE[dtype] * max(1.0, abs(ref_loss))
    for l in range(len(sizes) - 1):
        assert relative_error(dW[l], ref_dW[l]) < TOLERANCE[dtype], f"dW[{l}]"
        assert relative_error(db[l], ref_db[l]) < TOLERANCE[dtype], f"db[{l}]"

    # The masks must matter: the undropped gradient differs.
    _, plain_dW, _ = net.gradients(X, Y)
    assert relative_error(plain_dW[0], dW[0]) > 1e-3


OPTIMIZERS = {
    "plain": {},
    "momentum": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9, "nesterov": True},
    "l1": {"l1": 0.01},
    "l2": {"l2": 0.1},
    "everything": {"momentum": 0.5, "nesterov": True, "l1": 0.003, "l2": 0.05},
    "batch-scaled": {"momentum": 0.9, "l1": 0.3, "l2": 2.0, "penalty_scaling": "batch"},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_sgd_steps_match_reference(optimizer, dtype):
    # Two full-batch steps: momentum and Nesterov only show from the second one.
    sizes = (5, 33, 7, 3)
    net, ref = make_pair(sizes, "tanh", "softmax", dtype)
    X, Y, X64, Y64 = _case_data(sizes, "softmax", 12, dtype)
    options = dict(epochs=2, batch_size=12, learning_rate=0.3, shuffle=False)
    options.update(OPTIMIZERS[optimizer])
    history = net.fit(X, Y, **options)
    ref_history = ref.fit(X64, Y64, **options)
    np.testing.assert_allclose(history, ref_history, rtol=TOLERANCE[dtype])
    for l in range(len(sizes) - 1):
        assert relative_error(net.weights[l], ref.weights[l]) < TOLERANCE[dtype], (
            f"W[{l}]"
        )
        assert relative_error(net.biases[l], ref.biases[l]) < TOLERANCE[dtype], (
            f"b[{l}]"
        )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "sizes,activation,output",
    [
        ((6, 16, 9, 16, 5, 3), "relu", "softmax"),
        ((7, 33, 4), "logistic", "logistic"),
        ((70, 65, 33, 2), "tanh", "identity"),
    ],
)
def test_trajectory_matches_reference(sizes, activation, output, dtype):
    # Three epochs with shuffling, dropout, momentum and penalties; 103 samples in
    # batches of 25 leave a partial last batch of 3.
    n, batch_size, epochs = 103, 25, 3
    net, ref = make_pair(sizes, activation, output, dtype)
    X, Y, X64, Y64 = _case_data(sizes, output, n, dtype)
    dropout = [0.1] + [0.3] * (len(sizes) - 2)
    orders = [net.shuffle_order(e, n) for e in range(epochs)]
    n_batches = -(-n // batch_size)
    masks = [
        [
            net.dropout_masks(e, b, min(batch_size, n - b * batch_size), dropout)
            for b in range(n_batches)
        ]
        for e in range(epochs)
    ]
    options = dict(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=0.05,
        momentum=0.9,
        nesterov=True,
        l1=1e-4,
        l2=1e-3,
        dropout=dropout,
    )
    history = net.fit(X, Y, **options)
    ref_history = ref.fit(X64, Y64, orders=orders, masks=masks, **options)
    assert len(history) == epochs
    np.testing.assert_allclose(history, ref_history, rtol=TOLERANCE[dtype])
    for l in range(len(sizes) - 1):
        assert relative_error(net.weights[l], ref.weights[l]) < TOLERANCE[dtype], (
            f"W[{l}]"
        )
        assert relative_error(net.biases[l], ref.biases[l]) < TOLERANCE[dtype], (
            f"b[{l}]"
        )


# One-sample steps compute the next row's first-layer product while they update
# that layer (unless the input is dropped out or the layer is pruned). The
# shapes cover the scalar path of tiny layers (2-4-1), dot blocks with a partial
# last block (37-13-3) and a first layer large enough to split over threads.
ONE_SAMPLE_SHAPES = [(2, 4, 1), (37, 13, 3), (300, 150, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes", ONE_SAMPLE_SHAPES)
def test_one_sample_trajectory_matches_reference(sizes, dtype):
    # Shuffled, so each step reads ahead a row that is not the next in X.
    n, epochs = 23, 2
    output = "logistic" if sizes[-1] == 1 else "softmax"
    net, ref = make_pair(sizes, "tanh", output, dtype)
    X, Y, X64, Y64 = _case_data(sizes, output, n, dtype)
    dropout = [0.0] + [0.3] * (len(sizes) - 2)
    orders = [net.shuffle_order(e, n) for e in range(epochs)]
    masks = [
        [net.dropout_masks(e, b, 1, dropout) for b in range(n)] for e in range(epochs)
    ]
    options = dict(
        epochs=epochs,
        batch_size=1,
        learning_rate=0.05,
        momentum=0.9,
        l2=1e-3,
        dropout=dropout,
    )

    history = net.fit(X, Y, **options)
    ref_history = ref.fit(X64, Y64, orders=orders, masks=masks, **options)

    np.testing.assert_allclose(history, ref_history, rtol=TOLERANCE[dtype])
    for l in range(len(sizes) - 1):
        assert relative_error(net.weights[l], ref.weights[l]) < TOLERANCE[dtype]
        assert relative_error(net.biases[l], ref.biases[l]) < TOLERANCE[dtype]


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes", ONE_SAMPLE_SHAPES)
def test_one_sample_fit_equals_fit_per_row(sizes, dtype, n_threads):
    # A fit call per row never reads ahead, so equal bits show that the product
    # read ahead is the forward pass's own. Row 5 has weight 0: its batch is
    # skipped, and the step after it must compute its own product.
    n = 12
    output = "logistic" if sizes[-1] == 1 else "softmax"
    X, Y, _, _ = _case_data(sizes, output, n, dtype)
    weights = np.ones(n)
    weights[5] = 0
    options = dict(
        epochs=1,
        batch_size=1,
        shuffle=False,
        learning_rate=0.05,
        momentum=0.9,
        l2=1e-3,
    )
    whole, per_row = (
        fastmlp.MLP(sizes, "tanh", output, dtype=dtype, seed=0, n_threads=n_threads)
        for _ in range(2)
    )

    whole.fit(X, Y, sample_weight=weights, **options)
    for i in np.flatnonzero(weights):
        per_row.fit(X[i : i + 1], Y[i : i + 1], **options)

    for a, b in zip(whole.weights + whole.biases, per_row.weights + per_row.biases):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [1, 2])
def test_masks_set_by_callback_equal_masks_between_calls(batch_size):
    # A callback may prune the first layer between epochs; one-sample steps must
    # then stop computing the next row's product before the mask is applied.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 8))
    y = rng.integers(0, 3, 40)
    masks = [rng.random((16, 8)) >= 0.5, np.ones((3, 16), bool)]
    options = dict(batch_size=batch_size, learning_rate=0.01)
    in_callback = fastmlp.MLP([8, 16, 3], dtype="float64", seed=1)
    between = fastmlp.MLP([8, 16, 3], dtype="float64", seed=1)

    def prune_after_first_epoch(epoch, loss):
        if epoch == 1:
            in_callback.weight_masks = masks

    in_callback.fit(X, y, epochs=2, callback=prune_after_first_epoch, **options)
    between.fit(X, y, epochs=1, **options)
    between.weight_masks = masks
    between.fit(X, y, epochs=1, **options)

    for a, b in zip(in_callback.weights, between.weights):
        np.testing.assert_array_equal(a, b)


def _sample_weights(rng, n, dtype):
    """Return weights in [0, 2) in dtype, a quarter of them 0 (none when n is 1)."""
    weights = rng.uniform(0, 2, n)
    if n > 1:
        weights[rng.choice(n, max(1, n // 4), replace=False)] = 0
    return weights.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("sizes,n,output", OUTPUT_CASES)
def test_weighted_gradients_match_reference(sizes, n, output, dtype):
    net, ref = make_pair(sizes, "tanh", output, dtype)
    X, Y, X64, Y64 = _case_data(sizes, output, n, dtype)
    weights = _sample_weights(np.random.default_rng(n), n, dtype)

    loss, dW, db = net.gradients(X, Y, sample_weight=weights)
    ref_loss, ref_dW, ref_db = ref.gradients(
        X64, Y64, sample_weight=weights.astype(np.float64)
    )

    assert abs(loss - ref_loss) <= TOLERANCE[dtype] * max(1.0, abs(ref_loss))
    for l in range(len(sizes) - 1):
        assert relative_error(dW[l], ref_dW[l]) < TOLERANCE[dtype], f"dW[{l}]"
        assert relative_error(db[l], ref_db[l]) < TOLERANCE[dtype], f"db[{l}]"


@pytest.mark.parametrize("dtype", DTYPES)
def test_weighted_gradients_with_masks_match_reference(dtype):
    sizes, n = (5, 33, 7, 2), 9
    net, ref = make_pair(sizes, "relu", "softmax", dtype)
    X, Y, X64, Y64 = _case_data(sizes, "softmax", n, dtype)
    weights = _sample_weights(np.random.default_rng(1), n, dtype)
    dropout = [0.2, 0.5, 0.5]
    masks = net.dropout_masks(0, 0, n, dropout)

    loss, dW, db = net.gradients(
        X, Y, dropout=dropout, masks=masks, sample_weight=weights
    )
    ref_loss, ref_dW, ref_db = ref.gradients(
        X64, Y64, dropout=dropout, masks=masks, sample_weight=weights.astype(float)
    )

    assert abs(loss - ref_loss) <= TOLERANCE[dtype] * max(1.0, abs(ref_loss))
    for l in range(len(sizes) - 1):
        assert relative_error(dW[l], ref_dW[l]) < TOLERANCE[dtype], f"dW[{l}]"
        assert relative_error(db[l], ref_db[l]) < TOLERANCE[dtype], f"db[{l}]"


WEIGHTED_OPTIMIZERS = {
    "sgd": {"momentum": 0.9, "nesterov": True, "learning_rate": 0.05},
    "adam": {"optimizer": "adam", "learning_rate": 0.01},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("penalty_scaling", ["none", "batch"])
@pytest.mark.parametrize("optimizer", WEIGHTED_OPTIMIZERS)
def test_weighted_trajectory_matches_reference(optimizer, penalty_scaling, dtype):
    # 103 samples in batches of 25, shuffled, with dropout and penalties. Batch 1
    # of epoch 0 has weight 0 only, so it takes no step and leaves the history.
    sizes, n, batch_size, epochs = (7, 33, 4), 103, 25, 3
    net, ref = make_pair(sizes, "logistic", "softmax", dtype)
    X, Y, X64, Y64 = _case_data(sizes, "softmax", n, dtype)
    dropout = [0.1, 0.3]
    orders = [net.shuffle_order(e, n) for e in range(epochs)]
    weights = np.random.default_rng(2).uniform(0.5, 3, n).astype(dtype)
    weights[orders[0][25:50]] = 0
    masks = [
        [
            net.dropout_masks(e, b, min(batch_size, n - b * batch_size), dropout)
            for b in range(-(-n // batch_size))
        ]
        for e in range(epochs)
    ]
    options = dict(
        epochs=epochs,
        batch_size=batch_size,
        l1=1e-3,
        l2=0.1,
        dropout=dropout,
        penalty_scaling=penalty_scaling,
        **WEIGHTED_OPTIMIZERS[optimizer],
    )

    history = net.fit(X, Y, sample_weight=weights, **options)
    ref_history = ref.fit(
        X64,
        Y64,
        sample_weight=weights.astype(np.float64),
        orders=orders,
        masks=masks,
        **options,
    )

    np.testing.assert_allclose(history, ref_history, rtol=TOLERANCE[dtype])
    for l in range(len(sizes) - 1):
        assert relative_error(net.weights[l], ref.weights[l]) < TOLERANCE[dtype], (
            f"W[{l}]"
        )
        assert relative_error(net.biases[l], ref.biases[l]) < TOLERANCE[dtype], (
            f"b[{l}]"
        )


def test_shuffle_order_is_a_permutation_per_epoch():
    net, _ = make_pair((3, 2), "relu", "softmax", "float64")
    first, second = net.shuffle_order(0, 50), net.shuffle_order(1, 50)
    assert sorted(first) == list(range(50))
    assert sorted(second) == list(range(50))
    assert not np.array_equal(first, second)


def test_dropout_masks_keep_about_one_minus_p():
    net, _ = make_pair((40, 30, 2), "relu", "softmax", "float32")
    masks = net.dropout_masks(0, 0, 500, [0.2, 0.5])
    # 20,000 and 15,000 draws: the kept fraction is within 0.01 of 1 - p with
    # overwhelming probability (standard deviation below 0.004).
    assert abs(masks[0].mean() - 0.8) < 0.01
    assert abs(masks[1].mean() - 0.5) < 0.01
    assert net.dropout_masks(0, 0, 5, 0.5)[0] is None
