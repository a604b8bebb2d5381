"""Small checks of the NumPy reference against values worked out by hand."""

import inspect
import math

import numpy as np
import pytest

import fastmlp
from fastmlp import reference
from fastmlp.reference import MLP

# Results of a few float64 operations on short decimals: only rounding differs.
EXACT = 1e-12


def hand_net(activation, output):
    """Return a float64 2-2-1 net with the weights used by the hand-worked tests."""
    net = MLP([2, 2, 1], activation=activation, output=output, dtype="float64", seed=0)
    net.weights = [np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([[1.0, -2.0]])]
    net.biases = [np.array([0.0, -1.0]), np.array([0.5])]
    return net


def one_unit_net():
    """Return a float64 1-1 identity net with W = 1, b = 0.5."""
    net = MLP([1, 1], output="identity", dtype="float64", seed=0)
    net.weights = [np.array([[1.0]])]
    net.biases = [np.array([0.5])]
    return net


# -- activations -------------------------------------------------------------


def test_logistic_saturates_without_overflow():
    # pytest turns a RuntimeWarning from an overflowing exp into an error.
    values = reference.logistic(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(values, [0.0, 0.5, 1.0])


def test_relu_derivative_zero_at_kink():
    values = reference.relu_derivative(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(values, [0.0, 0.0, 1.0])


def test_softmax_rows_sum_to_one_for_large_z():
    values = reference.softmax(np.array([[1000.0, 0.0, -1000.0], [1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(values[0], [1.0, 0.0, 0.0], rtol=0, atol=EXACT)
    np.testing.assert_allclose(values[1], [1 / 3] * 3, rtol=EXACT)


# -- forward and backward by hand --------------------------------------------


def test_forward_relu_identity_by_hand():
    net = hand_net("relu", "identity")
    X = np.array([[1.0, 2.0], [2.0, 0.0]])

    # Sample 0: z1 = (1 - 2 + 0, 0.5 + 4 - 1) = (-1, 3.5), a1 = (0, 3.5),
    #           z2 = 0 - 2 * 3.5 + 0.5 = -6.5.
    # Sample 1: z1 = (2 - 0 + 0, 1 + 0 - 1) = (2, 0), a1 = (2, 0),
    #           z2 = 2 - 0 + 0.5 = 2.5.
    np.testing.assert_allclose(net.forward(X), [[-6.5], [2.5]], rtol=EXACT)


def test_forward_tanh_logistic_by_hand():
    net = hand_net("tanh", "logistic")
    X = np.array([[1.0, 2.0]])

    # z1 = (-1, 3.5) as above, a1 = tanh(z1), z2 = a1_0 - 2 a1_1 + 0.5.
    z2 = math.tanh(-1.0) - 2 * math.tanh(3.5) + 0.5
    expected = 1 / (1 + math.exp(-z2))
    np.testing.assert_allclose(net.forward(X), [[expected]], rtol=EXACT)


def test_gradients_relu_identity_by_hand():
    net = hand_net("relu", "identity")
    X = np.array([[1.0, 2.0]])
    Y = np.array([0.5])

    loss, dW, db = net.gradients(X, Y)

    # z2 = -6.5, so the loss is 1/2 (0.5 + 6.5)^2 = 24.5 and dZ2 = -7.
    assert loss == pytest.approx(24.5, rel=EXACT)
    # dW2 = dZ2 a1 = -7 (0, 3.5), db2 = dZ2.
    np.testing.assert_allclose(dW[1], [[0.0, -24.5]], rtol=EXACT)
    np.testing.assert_allclose(db[1], [-7.0], rtol=EXACT)
    # dA1 = dZ2 W2 = (-7, 14); relu' at z1 = (-1, 3.5) is (0, 1), so dZ1 = (0, 14).
    np.testing.assert_allclose(dW[0], [[0.0, 0.0], [14.0, 28.0]], rtol=EXACT)
    np.testing.assert_allclose(db[0], [0.0, 14.0], rtol=EXACT)


def test_gradients_accept_class_indices():
    net = MLP([3, 4, 3], activation="tanh", dtype="float64", seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    labels = np.array([0, 2, 1, 2, 0])

    loss_labels, dW_labels, _ = net.gradients(X, labels)
    loss_one_hot, dW_one_hot, _ = net.gradients(X, np.eye(3)[labels])

    assert loss_labels == loss_one_hot
    for l in range(2):
        np.testing.assert_array_equal(dW_labels[l], dW_one_hot[l])


# -- SGD steps by hand -------------------------------------------------------
# The 1-1 net below has W = 1, b = 0.5 and one sample x = 2, y = 1. At the
# start z = 2.5, so dZ = 1.5, dW = 3 and db = 1.5.


def test_fit_plain_sgd_step_by_hand():
    net = one_unit_net()
    net.fit([[2.0]], [1.0], epochs=1, batch_size=1, learning_rate=0.1)

    np.testing.assert_allclose(net.weights[0], [[1 - 0.1 * 3]], rtol=EXACT)
    np.testing.assert_allclose(net.biases[0], [0.5 - 0.1 * 1.5], rtol=EXACT)


def test_fit_l2_leaves_biases_alone():
    net = one_unit_net()
    net.fit([[2.0]], [1.0], epochs=1, batch_size=1, learning_rate=0.1, l2=0.5)

    # g = dW + l2 W = 3 + 0.5, while the bias gets only its data gradient.
    np.testing.assert_allclose(net.weights[0], [[1 - 0.1 * 3.5]], rtol=EXACT)
    np.testing.assert_allclose(net.biases[0], [0.5 - 0.1 * 1.5], rtol=EXACT)


def test_fit_momentum_two_steps_by_hand():
    net = one_unit_net()
    net.fit([[2.0]], [1.0], epochs=2, batch_size=1, learning_rate=0.1, momentum=0.9)

    # Step 1: v_W = -0.1 * 3 = -0.3, W = 0.7; v_b = -0.15, b = 0.35.
    # Step 2: z = 1.75, dZ = 0.75, g_W = 1.5, g_b = 0.75.
    #   v_W = 0.9 * -0.3 - 0.15 = -0.42, W = 0.7 - 0.42 = 0.28.
    #   v_b = 0.9 * -0.15 - 0.075 = -0.21, b = 0.35 - 0.21 = 0.14.
    np.testing.assert_allclose(net.weights[0], [[0.28]], rtol=EXACT)
    np.testing.assert_allclose(net.biases[0], [0.14], rtol=EXACT)


def test_fit_nesterov_two_steps_by_hand():
    net = one_unit_net()
    net.fit(
        [[2.0]],
        [1.0],
        epochs=2,
        batch_size=1,
        learning_rate=0.1,
        momentum=0.9,
        nesterov=True,
    )

    # Step 1: v_W = -0.3, W = 1 + 0.9 * -0.3 - 0.3 = 0.43;
    #         v_b = -0.15, b = 0.5 + 0.9 * -0.15 - 0.15 = 0.215.
    # Step 2: z = 1.075, dZ = 0.075, g_W = 0.15, g_b = 0.075.
    #   v_W = 0.9 * -0.3 - 0.015 = -0.285, W = 0.43 + 0.9 * -0.285 - 0.015 = 0.1585.
    #   v_b = 0.9 * -0.15 - 0.0075 = -0.1425,
    #   b = 0.215 + 0.9 * -0.1425 - 0.0075 = 0.07925.
    np.testing.assert_allclose(net.weights[0], [[0.1585]], rtol=EXACT)
    np.testing.assert_allclose(net.biases[0], [0.07925], rtol=EXACT)


def test_sgd_step_penalty_enters_velocity():
    W, b = [np.array([[2.0]])], [np.array([1.0])]
    dW, db = [np.array([[0.0]])], [np.array([0.0])]
    V_W, V_b = [np.array([[0.1]])], [np.array([0.1])]

    W, b, V_W, V_b = reference.sgd_step(
        W, b, dW, db, V_W, V_b, learning_rate=0.1, momentum=0.9, l2=0.5
    )

    # g_W = 0 + 0.5 * 2 = 1, v_W = 0.9 * 0.1 - 0.1 * 1 = -0.01; g_b = 0.
    np.testing.assert_allclose(V_W[0], [[-0.01]], rtol=EXACT)
    np.testing.assert_allclose(W[0], [[1.99]], rtol=EXACT)
    np.testing.assert_allclose(V_b[0], [0.09], rtol=EXACT)
    np.testing.assert_allclose(b[0], [1.09], rtol=EXACT)


def test_sgd_step_l1_sign_of_zero_is_zero():
    W, b = [np.array([[0.0, 2.0, -3.0]])], [np.array([1.0])]
    dW, db = [np.zeros((1, 3))], [np.zeros(1)]
    V_W, V_b = [np.zeros((1, 3))], [np.zeros(1)]

    W, b, _, _ = reference.sgd_step(W, b, dW, db, V_W, V_b, learning_rate=0.1, l1=0.5)

    # Each nonzero weight moves 0.1 * 0.5 towards 0, while the zero weight and
    # the bias stay where they are.
    np.testing.assert_allclose(W[0], [[0.0, 1.95, -2.95]], rtol=EXACT)
    np.testing.assert_array_equal(b[0], [1.0])


def test_fit_l1_keeps_zero_weight_at_zero():
    net = MLP([1, 1], output="identity", dtype="float64", seed=0)
    net.weights = [np.zeros((1, 1))]
    # y = b = 0, so the data gradient is 0 and only the L1 term could move W.
    net.fit([[1.0]], [0.0], epochs=3, batch_size=1, learning_rate=0.1, l1=0.5)

    np.testing.assert_array_equal(net.weights[0], [[0.0]])


# -- history and epochs ------------------------------------------------------


@pytest.mark.parametrize("penalty_scaling", ["none", "batch"])
@pytest.mark.parametrize("with_dropout", [False, True], ids=["plain", "dropout"])
def test_fit_history_matches_replay(penalty_scaling, with_dropout):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((5, 3))
    labels = rng.integers(0, 2, 5)
    order = rng.permutation(5)
    dropout = [0.2, 0.5] if with_dropout else 0.0
    # Batches of 2, 2 and 1 rows. Layer 0 has 3 units and layer 1 has 4.
    masks = [
        [rng.random((n_b, 3)) >= 0.2, rng.random((n_b, 4)) >= 0.5] for n_b in (2, 2, 1)
    ]
    options = {
        "learning_rate": 0.5,
        "l1": 0.01,
        "l2": 0.1,
        "penalty_scaling": penalty_scaling,
        "dropout": dropout,
    }

    net = MLP([3, 4, 2], activation="tanh", dtype="float64", seed=0)
    replay = MLP([3, 4, 2], activation="tanh", dtype="float64", seed=0)
    history = net.fit(
        X,
        labels,
        epochs=1,
        batch_size=2,
        orders=[order],
        masks=[masks] if with_dropout else None,
        **options,
    )

    # Replay batch by batch: loss and penalty before each batch's update.
    expected = 0.0
    for batch, start in enumerate(range(0, 5, 2)):
        rows = order[start : start + 2]
        n_b = len(rows)
        batch_masks = masks[batch] if with_dropout else None
        loss = replay.gradients(X[rows], labels[rows], dropout, batch_masks)[0]
        scale = n_b if penalty_scaling == "batch" else 1
        penalty = sum(
            0.1 / scale / 2 * (W * W).sum() + 0.01 / scale * np.abs(W).sum()
            for W in replay.weights
        )
        expected += n_b * (loss + penalty) / 5
        replay.fit(
            X[rows],
            labels[rows],
            epochs=1,
            batch_size=n_b,
            shuffle=False,
            masks=[[batch_masks]] if with_dropout else None,
            **options,
        )

    # Same operations in a different summation order.
    assert history[0] == pytest.approx(expected, rel=EXACT)
    for l in range(2):
        np.testing.assert_allclose(net.weights[l], replay.weights[l], rtol=EXACT)


def test_fit_history_scaling_changes_penalty():
    X = np.random.default_rng(2).standard_normal((4, 3))
    labels = np.array([0, 1, 1, 0])
    histories = {}
    for scaling in ("none", "batch"):
        net = MLP([3, 2], dtype="float64", seed=0)
        histories[scaling] = net.fit(
            X, labels, epochs=1, batch_size=2, l2=1.0, penalty_scaling=scaling
        )

    assert histories["batch"][0] < histories["none"][0]


def test_fit_split_equals_single_call():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((7, 3))
    labels = rng.integers(0, 3, 7)
    options = {
        "batch_size": 3,
        "learning_rate": 0.2,
        "momentum": 0.8,
        "nesterov": True,
        "l1": 0.01,
        "l2": 0.01,
        "dropout": [0.1, 0.3],
    }

    whole = MLP([3, 5, 3], activation="relu", dtype="float64", seed=4)
    split = MLP([3, 5, 3], activation="relu", dtype="float64", seed=4)
    history_whole = whole.fit(X, labels, epochs=5, **options)
    history_split = split.fit(X, labels, epochs=2, **options)
    history_split += split.fit(X, labels, epochs=3, **options)

    assert split.epoch == whole.epoch == 5
    assert history_split == history_whole
    for l in range(2):
        np.testing.assert_array_equal(split.weights[l], whole.weights[l])
        np.testing.assert_array_equal(split.biases[l], whole.biases[l])


def test_fit_clips_batch_size_to_n():
    X = np.random.default_rng(5).standard_normal((5, 2))
    labels = np.array([0, 1, 0, 1, 1])
    clipped = MLP([2, 2], dtype="float64", seed=0)
    exact = MLP([2, 2], dtype="float64", seed=0)

    history_clipped = clipped.fit(X, labels, epochs=2, batch_size=100, shuffle=False)
    history_exact = exact.fit(X, labels, epochs=2, batch_size=5, shuffle=False)

    assert history_clipped == history_exact
    np.testing.assert_array_equal(clipped.weights[0], exact.weights[0])


def test_fit_callback_true_stops():
    seen = []

    def stop_at_two(epoch, loss):
        seen.append(epoch)
        return epoch == 2

    net = MLP([2, 2], dtype="float64", seed=0)
    history = net.fit([[0.0, 1.0]], [1], epochs=5, callback=stop_at_two)

    assert seen == [1, 2]
    assert len(history) == 2
    assert net.epoch == 2


# -- attributes, persistence and errors -------------------------------------


def test_constructor_canonical_attributes():
    net = MLP([3, 4, 2], activation="sigmoid", dtype=np.float64, seed=7)

    assert net.sizes == (3, 4, 2)
    assert net.activation == "logistic"
    assert net.output == "softmax"
    assert net.dtype == np.float64
    assert net.seed == 7
    assert net.n_threads is None
    assert net.epoch == 0


# Parameters that only the reference takes: fit's sample orders and dropout
# masks, which replace the reference's own draws.
REFERENCE_ONLY_PARAMETERS = {"fit": ("orders", "masks")}


@pytest.mark.parametrize(
    "method", ["__init__", "forward", "gradients", "hessian_diagonal", "fit", "save"]
)
def test_signatures_match_fastmlp(method):
    # Both models spell out the same signatures, so these must not drift apart.
    fast = inspect.signature(getattr(fastmlp.MLP, method)).parameters
    oracle = inspect.signature(getattr(MLP, method)).parameters
    reference_only = REFERENCE_ONLY_PARAMETERS.get(method, ())
    shared = [name for name in oracle if name not in reference_only]

    assert shared == list(fast)
    for name, parameter in fast.items():
        assert oracle[name].default == parameter.default, name
        assert oracle[name].kind == parameter.kind, name


def test_initial_weights_within_bounds():
    net = MLP([50, 40, 30], activation="relu", dtype="float64", seed=0)
    W = net.weights

    # He bound sqrt(6 / n_in) for the relu layer, Glorot for the output layer.
    assert np.abs(W[0]).max() <= math.sqrt(6 / 50)
    assert np.abs(W[0]).max() > 0.9 * math.sqrt(6 / 50)
    assert np.abs(W[1]).max() <= math.sqrt(6 / (40 + 30))
    assert np.abs(W[1]).max() > 0.9 * math.sqrt(6 / (40 + 30))
    np.testing.assert_array_equal(net.biases[0], 0)


def test_weights_read_only_copies():
    net = MLP([2, 3, 1], output="identity", dtype="float64", seed=0)
    W = net.weights

    with pytest.raises(ValueError, match="read-only"):
        W[0][0, 0] = 1.0
    assert net.weights[0] is not W[0]


def test_weights_setter_converts_and_copies():
    net = MLP([2, 1], output="identity", dtype="float32", seed=0)
    new = np.array([[1.0, 2.0]])

    net.weights = [new]
    new[0, 0] = 5.0

    assert net.weights[0].dtype == np.float32
    np.testing.assert_array_equal(net.weights[0], [[1.0, 2.0]])


def test_weights_setter_rejects_wrong_shape():
    net = MLP([2, 3, 1], output="logistic", seed=0)

    with pytest.raises(ValueError, match=r"weights\[0\] must have shape \(3, 2\)"):
        net.weights = [np.zeros((2, 3)), np.zeros((1, 3))]
    with pytest.raises(ValueError, match="must be a list of 2 arrays"):
        net.biases = [np.zeros(3)]


def test_save_load_round_trip(tmp_path):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((6, 3))
    labels = rng.integers(0, 2, 6)
    options = {"epochs": 2, "batch_size": 2, "momentum": 0.9, "dropout": 0.3}
    net = MLP([3, 4, 2], activation="tanh", dtype="float64", seed=8, n_threads=2)
    net.fit(X, labels, **options)
    path = tmp_path / "model.bin"

    net.save(path)
    loaded = MLP.load(path)

    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin"]
    assert repr(loaded) == repr(net)
    assert loaded.n_threads == 2
    assert loaded.epoch == 2
    # Velocities and the epoch counter carry over: training goes on identically.
    assert loaded.fit(X, labels, **options) == net.fit(X, labels, **options)
    for l in range(2):
        np.testing.assert_array_equal(loaded.weights[l], net.weights[l])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sizes": [3]}, ValueError, "at least the input and output widths"),
        ({"sizes": [3, 0]}, ValueError, r"sizes\[1\] must be an integer >= 1"),
        ({"activation": "softplus"}, ValueError, "activation must be one of"),
        ({"output": "tanh"}, ValueError, "output must be one of"),
        ({"dtype": "float16"}, ValueError, "dtype must be 'float32' or 'float64'"),
        (
            {"seed": -1},
            ValueError,
            r"seed must be None or an integer in \[0, 2\*\*64\)",
        ),
        ({"seed": 1.5}, TypeError, "seed must be None or an integer"),
        ({"n_threads": 0}, ValueError, "n_threads must be an integer >= 1"),
    ],
)
def test_constructor_rejects_invalid(kwargs, error, match):
    arguments = {"sizes": [3, 2], **kwargs}
    with pytest.raises(error, match=match):
        MLP(**arguments)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"epochs": 0}, ValueError, "epochs must be an integer >= 1, got 0"),
        ({"batch_size": 2.5}, TypeError, "batch_size must be an integer"),
        ({"learning_rate": 0.0}, ValueError, r"learning_rate must be .* \(0\.0, inf\)"),
        (
            {"momentum": 1.0},
            ValueError,
            r"momentum must be .* \[0\.0, 1\.0\), got 1\.0",
        ),
        ({"l2": -1.0}, ValueError, "l2 must be"),
        ({"dropout": [0.1]}, ValueError, "dropout must hold 2 probabilities"),
        ({"dropout": 1.0}, ValueError, "dropout must be"),
        ({"dropout": "0.5"}, TypeError, "dropout must be a float in"),
        ({"nesterov": 1}, TypeError, "nesterov must be True or False"),
        ({"callback": 3}, TypeError, "callback must be callable"),
        ({"penalty_scaling": "mean"}, ValueError, "penalty_scaling must be one of"),
        ({"orders": [[0, 0, 1]]}, ValueError, r"orders\[0\] must be a permutation"),
    ],
)
def test_fit_rejects_invalid(kwargs, error, match):
    net = MLP([2, 3, 2], seed=0)
    before = net.weights[0]
    X = np.zeros((3, 2))
    arguments = {"epochs": 1, **kwargs}

    with pytest.raises(error, match=match):
        net.fit(X, [0, 1, 0], **arguments)
    np.testing.assert_array_equal(net.weights[0], before)
    assert net.epoch == 0


@pytest.mark.parametrize(
    ("X", "Y", "error", "match"),
    [
        (np.zeros(2), [0], ValueError, "X must be a 2-D array"),
        (
            np.zeros((1, 3)),
            [0],
            ValueError,
            "X has 3 features, but the network expects 2",
        ),
        (np.zeros((1, 2), dtype=complex), [0], TypeError, "X must hold real numbers"),
        (np.full((1, 2), np.nan), [0], ValueError, "X must contain only finite"),
        (np.zeros((1, 2)), [2], ValueError, r"class indices in Y must be in \[0, 2\)"),
        (
            np.zeros((1, 2)),
            [[0.5, 0.6]],
            ValueError,
            "must sum to 1, row 0 sums to 1.1",
        ),
        (np.zeros((2, 2)), [0], ValueError, "same number of samples, got 2 and 1"),
    ],
)
def test_gradients_reject_invalid_data(X, Y, error, match):
    net = MLP([2, 2], seed=0)
    with pytest.raises(error, match=match):
        net.gradients(X, Y)


def test_gradients_reject_mask_without_dropout():
    net = MLP([2, 3, 2], seed=0)
    masks = [np.ones((1, 2), dtype=bool), None]

    with pytest.raises(ValueError, match=r"masks\[0\] is given but the dropout"):
        net.gradients([[0.0, 1.0]], [1], dropout=0.5, masks=masks)
