"""RMSprop and Adam: step-by-step agreement with the NumPy reference and with
scikit-learn's Adam, state that persists across calls, switching optimizer,
and argument checks in Python and in the core.

Tolerances follow tests/test_reference_agreement.py: float64 runs agree within
1e-10 (norm-wise relative error), and float32 runs are compared with a float64
reference fed the same float32-rounded inputs.
"""

import math
import pickle

import numpy as np
import pytest
from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

import fastmlp
from conftest import make_pair, make_targets, relative_error
from fastmlp import reference

TOLERANCE = {"float64": 1e-10, "float32": 1e-4}

# Widths 1 and 7 run only the SIMD tails of the update loops, 33 runs a full
# vector and a tail. 23 samples in batches of 1, 5 (fused outer-product update,
# at most 8 rows) and 9 (dW formed first, then a last batch of 5).
WIDTHS = [1, 7, 33]
BATCH_SIZES = [1, 5, 9]
N_SAMPLES = 23
EPOCHS = 3

VARIANTS = {
    "plain": {},
    "penalties": {"l1": 1e-3, "l2": 1e-2},
    "penalties-dropout": {"l1": 1e-3, "l2": 1e-2, "dropout": [0.1, 0.3]},
}


def _data(sizes, n, dtype, seed=0):
    """Return X, Y in dtype and their float64 copies for the reference."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0])).astype(dtype)
    Y = make_targets(rng, n, sizes[-1], "softmax").astype(dtype)
    return X, Y, X.astype(np.float64), Y.astype(np.float64)


def _replay(net, n, batch_size, epochs, dropout):
    """Return the orders and masks the compiled fit draws, for the reference."""
    orders = [net.shuffle_order(net.epoch + e, n) for e in range(epochs)]
    if dropout is None:
        return orders, None
    n_batches = -(-n // batch_size)
    masks = [
        [
            net.dropout_masks(
                net.epoch + e, b, min(batch_size, n - b * batch_size), dropout
            )
            for b in range(n_batches)
        ]
        for e in range(epochs)
    ]
    return orders, masks


def _assert_parameters_close(net, ref, tolerance):
    for l in range(len(net.sizes) - 1):
        assert relative_error(net.weights[l], ref.weights[l]) < tolerance, f"W[{l}]"
        assert relative_error(net.biases[l], ref.biases[l]) < tolerance, f"b[{l}]"


def _assert_same_parameters(a, b):
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_trajectory_matches_reference(optimizer, width, batch_size, variant, dtype):
    sizes = (width, width, 3)
    net, ref = make_pair(sizes, "tanh", "softmax", dtype)
    X, Y, X64, Y64 = _data(sizes, N_SAMPLES, dtype)
    options = dict(
        epochs=EPOCHS,
        batch_size=batch_size,
        learning_rate=0.01,
        optimizer=optimizer,
        **VARIANTS[variant],
    )
    orders, masks = _replay(net, N_SAMPLES, batch_size, EPOCHS, options.get("dropout"))

    history = net.fit(X, Y, **options)
    ref_history = ref.fit(X64, Y64, orders=orders, masks=masks, **options)

    np.testing.assert_allclose(history, ref_history, rtol=TOLERANCE[dtype])
    _assert_parameters_close(net, ref, TOLERANCE[dtype])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adam_state_matches_reference(dtype):
    sizes = (7, 33, 3)
    net, ref = make_pair(sizes, "relu", "softmax", dtype)
    X, Y, X64, Y64 = _data(sizes, N_SAMPLES, dtype)
    options = dict(epochs=2, batch_size=5, learning_rate=0.01, optimizer="adam")
    orders, _ = _replay(net, N_SAMPLES, 5, 2, None)
    net.fit(X, Y, **options)
    ref.fit(X64, Y64, orders=orders, **options)

    # Five batches per epoch, one Adam step each.
    assert net._core.adam_step == ref._adam_t == 10
    for l in range(len(sizes) - 1):
        for which, expected in [
            ("adam_mW", ref._adam_M_W[l]),
            ("adam_vW", ref._adam_V_W[l]),
            ("adam_mb", ref._adam_M_b[l]),
            ("adam_vb", ref._adam_V_b[l]),
        ]:
            got = net._core.get_parameter(l, which)
            assert relative_error(got, expected) < TOLERANCE[dtype], which


def test_reference_adam_matches_scikit_learn():
    rng = np.random.default_rng(0)
    W = [rng.normal(size=(4, 3)), rng.normal(size=(2, 4))]
    b = [rng.normal(size=4), rng.normal(size=2)]
    moments = [[np.zeros_like(a) for a in arrays] for arrays in (W, b, W, b)]
    params = [a.copy() for a in W + b]
    sklearn_adam = AdamOptimizer(
        params, learning_rate_init=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6
    )
    for t in range(1, 4):
        dW = [rng.normal(size=a.shape) for a in W]
        db = [rng.normal(size=a.shape) for a in b]
        W, b, *moments = reference.adam_step(
            W, b, dW, db, *moments, t, 0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6
        )
        sklearn_adam.update_params(params, dW + db)

    # Same formulas in the same order: only the grouping of the update differs.
    for ours, theirs in zip(W + b, params):
        np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=1e-15)


def test_reference_rmsprop_step_by_hand():
    W, b = [np.array([[1.0, -2.0]])], [np.array([0.5])]
    dW, db = [np.array([[0.3, 0.0]])], [np.array([-2.0])]
    S_W, S_b = [np.array([[0.5, 0.0]])], [np.array([0.0])]
    W, b, S_W, S_b = reference.rmsprop_step(
        W, b, dW, db, S_W, S_b, 0.1, rho=0.9, epsilon=1e-8, l2=0.1
    )

    # Weight 0: g = 0.3 + 0.1 * 1 = 0.4, s = 0.9 * 0.5 + 0.1 * 0.16 = 0.466.
    # Weight 1: g = 0 + 0.1 * -2 = -0.2, s = 0.1 * 0.04 = 0.004.
    # Bias (no penalty): g = -2, s = 0.1 * 4 = 0.4.
    np.testing.assert_allclose(S_W[0], [[0.466, 0.004]], rtol=1e-14)
    np.testing.assert_allclose(S_b[0], [0.4], rtol=1e-14)
    expected_W = [
        1 - 0.1 * 0.4 / (math.sqrt(0.466) + 1e-8),
        -2 + 0.1 * 0.2 / (math.sqrt(0.004) + 1e-8),
    ]
    np.testing.assert_allclose(W[0], [expected_W], rtol=1e-14)
    np.testing.assert_allclose(b[0], [0.5 + 0.1 * 2 / (math.sqrt(0.4) + 1e-8)])


def test_reference_adam_first_step_by_hand():
    W, b = [np.array([[1.0]])], [np.array([0.5])]
    dW, db = [np.array([[3.0]])], [np.array([-1.5])]
    zeros = [[np.zeros((1, 1))], [np.zeros(1)], [np.zeros((1, 1))], [np.zeros(1)]]
    W, b, M_W, M_b, V_W, V_b = reference.adam_step(W, b, dW, db, *zeros, 1, 0.1)

    # m = 0.1 g, v = 0.001 g^2, eta_1 = 0.1 sqrt(0.001) / 0.1, so the step is
    # eta_1 0.1 |g| / (sqrt(0.001) |g| + eps), a little under 0.1.
    eta_1 = 0.1 * math.sqrt(1 - 0.999) / (1 - 0.9)
    np.testing.assert_allclose(M_W[0], [[0.3]], rtol=1e-14)
    np.testing.assert_allclose(V_W[0], [[0.009]], rtol=1e-12)
    step_W = eta_1 * 0.3 / (math.sqrt(0.009) + 1e-8)
    step_b = eta_1 * -0.15 / (math.sqrt(0.00225) + 1e-8)
    np.testing.assert_allclose(W[0], [[1 - step_W]], rtol=1e-14)
    np.testing.assert_allclose(b[0], [0.5 - step_b], rtol=1e-14)
    assert 0.0999 < step_W < 0.1


# State across calls ----------------------------------------------------------


def _fit_options(optimizer):
    options = dict(batch_size=7, learning_rate=0.01, optimizer=optimizer, dropout=0.2)
    if optimizer == "sgd":
        options.update(momentum=0.9, nesterov=True)
    return options


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_fit_in_two_calls_equals_one_call(optimizer, dtype):
    X, Y, _, _ = _data((6, 9, 3), 40, dtype)
    whole = fastmlp.MLP([6, 9, 3], dtype=dtype, seed=1)
    split = fastmlp.MLP([6, 9, 3], dtype=dtype, seed=1)
    options = _fit_options(optimizer)

    history = whole.fit(X, Y, epochs=5, **options)
    first = split.fit(X, Y, epochs=2, **options)
    second = split.fit(X, Y, epochs=3, **options)

    assert first + second == history
    _assert_same_parameters(whole, split)
    assert split._core.adam_step == whole._core.adam_step


def test_switching_optimizer_keeps_each_state():
    sizes = (6, 9, 3)
    net, ref = make_pair(sizes, "tanh", "softmax", "float64")
    X, Y, _, _ = _data(sizes, 20, "float64")
    plan = [("adam", {}), ("sgd", {"momentum": 0.9}), ("rmsprop", {}), ("adam", {})]
    for optimizer, extra in plan:
        options = dict(
            epochs=1, batch_size=8, learning_rate=0.01, optimizer=optimizer, **extra
        )
        orders, _ = _replay(net, 20, 8, 1, None)
        adam_before = net._core.get_parameter(0, "adam_mW")
        net.fit(X, Y, **options)
        ref.fit(X, Y, orders=orders, **options)
        if optimizer != "adam":
            # Another optimizer leaves Adam's moments alone.
            np.testing.assert_array_equal(
                net._core.get_parameter(0, "adam_mW"), adam_before
            )

    # Three batches per Adam epoch, two Adam epochs.
    assert net._core.adam_step == 6
    _assert_parameters_close(net, ref, TOLERANCE["float64"])


def test_state_allocated_only_when_optimizer_runs():
    X, Y, _, _ = _data((6, 9, 3), 20, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=0)
    net.fit(X, Y, epochs=1)
    assert not net._core.has_state("adam")
    assert not net._core.has_state("rmsprop")
    net.fit(X, Y, epochs=1, optimizer="rmsprop")
    assert net._core.has_state("rmsprop")
    assert not net._core.has_state("adam")


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_divergence_restores_optimizer_state(optimizer):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(64, 8)).astype(np.float32)
    net = fastmlp.MLP([8, 16, 1], activation="tanh", output="identity", seed=0)
    net.fit(X, X[:, :1], epochs=2, learning_rate=0.01, optimizer=optimizer)
    names = ["W", "b", "adam_mW", "adam_vb", "rmsprop_sW", "rmsprop_sb"]
    before = [net._core.get_parameter(l, name) for l in range(2) for name in names]
    adam_step = net._core.adam_step

    # Both rules divide by the root of the second moment, so huge targets alone
    # do not diverge. Steps of about the learning rate, 1e30, overflow float32
    # within the first epoch.
    with pytest.raises(RuntimeError, match="training diverged .* epoch 3"):
        net.fit(X, X[:, :1], epochs=3, learning_rate=1e30, optimizer=optimizer)

    after = [net._core.get_parameter(l, name) for l in range(2) for name in names]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert net._core.adam_step == adam_step
    assert net.epoch == 2


# Saving ------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["rmsprop", "adam"])
def test_save_load_keeps_optimizer_state(tmp_path, optimizer):
    X, Y, _, _ = _data((6, 9, 3), 30, "float64")
    net = fastmlp.MLP([6, 9, 3], dtype="float64", seed=2)
    options = dict(epochs=2, batch_size=8, learning_rate=0.01, optimizer=optimizer)
    net.fit(X, Y, **options)
    net.save(tmp_path / "model.npz")
    loaded = fastmlp.MLP.load(tmp_path / "model.npz")

    assert loaded._core.adam_step == net._core.adam_step
    assert loaded._core.has_state(optimizer)
    # Training on from the loaded state gives the same bits as going on.
    assert loaded.fit(X, Y, **options) == net.fit(X, Y, **options)
    _assert_same_parameters(net, loaded)


def test_pickle_keeps_adam_state():
    X, Y, _, _ = _data((6, 9, 3), 30, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=2)
    options = dict(epochs=1, batch_size=8, learning_rate=0.01, optimizer="adam")
    net.fit(X, Y, **options)
    clone = pickle.loads(pickle.dumps(net))

    assert clone.fit(X, Y, **options) == net.fit(X, Y, **options)
    _assert_same_parameters(net, clone)


def test_load_reads_format_version_1(tmp_path):
    X, Y, _, _ = _data((6, 9, 3), 30, "float64")
    net = fastmlp.MLP([6, 9, 3], dtype="float64", seed=2)
    net.fit(X, Y, epochs=1, momentum=0.9)
    state = net._state()
    # A version 1 file: no Adam step count and no RMSprop or Adam arrays.
    state["format_version"] = np.array(1)
    del state["adam_step"]
    assert not any(key.startswith(("adam_", "rmsprop_")) for key in state)
    with open(tmp_path / "old.npz", "wb") as file:
        np.savez(file, **state)

    loaded = fastmlp.MLP.load(tmp_path / "old.npz")

    assert loaded.epoch == 1
    assert loaded._core.adam_step == 0
    _assert_same_parameters(net, loaded)
    options = dict(epochs=1, momentum=0.9)
    assert loaded.fit(X, Y, **options) == net.fit(X, Y, **options)


def test_load_rejects_unknown_format_version(tmp_path):
    state = fastmlp.MLP([4, 2], seed=0)._state()
    state["format_version"] = np.array(3)
    with open(tmp_path / "new.npz", "wb") as file:
        np.savez(file, **state)

    with pytest.raises(ValueError, match="has format version 3; this fastmlp reads"):
        fastmlp.MLP.load(tmp_path / "new.npz")


def test_reference_save_load_keeps_optimizer_state(tmp_path):
    X, Y, _, _ = _data((6, 9, 3), 30, "float64")
    net = reference.MLP([6, 9, 3], dtype="float64", seed=2)
    options = dict(epochs=1, batch_size=8, learning_rate=0.01, optimizer="adam")
    net.fit(X, Y, **options)
    net.save(tmp_path / "model.npz")
    loaded = reference.MLP.load(tmp_path / "model.npz")

    assert loaded._adam_t == net._adam_t == 4
    assert loaded.fit(X, Y, **options) == net.fit(X, Y, **options)
    _assert_same_parameters(net, loaded)


# Argument checks ---------------------------------------------------------------


@pytest.mark.parametrize("model_class", [fastmlp.MLP, reference.MLP])
@pytest.mark.parametrize(
    "options,error,match",
    [
        (
            dict(optimizer="adam", momentum=0.9),
            ValueError,
            r"momentum applies to optimizer='sgd' only, got momentum=0.9 with "
            r"optimizer='adam'; set momentum=0 or use optimizer='sgd'",
        ),
        (
            dict(optimizer="rmsprop", momentum=0.5),
            ValueError,
            "got momentum=0.5 with optimizer='rmsprop'",
        ),
        (
            dict(optimizer="rprop"),
            ValueError,
            "optimizer must be one of 'sgd', 'rmsprop', 'adam', 'lbfgs', got 'rprop'",
        ),
        (dict(beta_1=1.0), ValueError, r"beta_1 must be in \[0.0, 1.0\), got 1.0"),
        (dict(beta_1=-0.1), ValueError, r"beta_1 must be in \[0.0, 1.0\), got -0.1"),
        (dict(beta_2=1.5), ValueError, r"beta_2 must be in \[0.0, 1.0\), got 1.5"),
        (dict(rho=1.0), ValueError, r"rho must be in \[0.0, 1.0\), got 1.0"),
        (dict(rho="0.9"), TypeError, "rho must be a real number"),
        (dict(epsilon=0.0), ValueError, r"epsilon must be in \(0.0, inf\), got 0.0"),
        (dict(epsilon=np.inf), ValueError, r"epsilon must be in \(0.0, inf\), got inf"),
        (dict(epsilon=np.nan), ValueError, r"epsilon must be in \(0.0, inf\), got nan"),
    ],
)
def test_fit_rejects_bad_optimizer_options(model_class, options, error, match):
    X, Y, _, _ = _data((6, 9, 3), 10, "float32")
    net = model_class([6, 9, 3], seed=0)
    before = [W.copy() for W in net.weights]
    with pytest.raises(error, match=match):
        net.fit(X, Y, epochs=1, **options)
    for old, new in zip(before, net.weights):
        np.testing.assert_array_equal(old, new)
    assert net.epoch == 0


def test_nesterov_without_momentum_is_accepted_by_adam():
    X, Y, _, _ = _data((6, 9, 3), 10, "float32")
    a = fastmlp.MLP([6, 9, 3], seed=0)
    b = fastmlp.MLP([6, 9, 3], seed=0)
    a.fit(X, Y, epochs=2, optimizer="adam", nesterov=True)
    b.fit(X, Y, epochs=2, optimizer="adam")
    _assert_same_parameters(a, b)


def _core_fit(net, X, Y, **changes):
    """Call the compiled fit directly, past the Python checks."""
    arguments = dict(
        sample_weight=None,
        epochs=1,
        batch_size=4,
        optimizer="adam",
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        beta_1=0.9,
        beta_2=0.999,
        rho=0.99,
        epsilon=1e-8,
        l1=0.0,
        l2=0.0,
        scale_penalty_by_batch=False,
        dropout=[0.0, 0.0],
        shuffle=True,
        callback=None,
        n_threads=1,
    )
    arguments.update(changes)
    return net._core.fit(X, Y, **arguments)


@pytest.mark.parametrize(
    "changes,match",
    [
        (dict(momentum=0.5), "momentum applies to the 'sgd' optimizer only"),
        (dict(beta_1=1.0), r"beta_1 must be in \[0, 1\), got 1.0"),
        (dict(beta_2=-0.5), r"beta_2 must be in \[0, 1\), got -0.5"),
        (dict(rho=1.0), r"rho must be in \[0, 1\), got 1.0"),
        (dict(epsilon=0.0), "epsilon must be a positive finite number, got 0.0"),
        (dict(epsilon=math.inf), "epsilon must be a positive finite number, got inf"),
        (dict(optimizer="adagrad"), "optimizer must be one of"),
    ],
)
def test_core_rejects_bad_optimizer_options(changes, match):
    X, Y, _, _ = _data((6, 9, 3), 10, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=0)
    with pytest.raises(ValueError, match=match):
        _core_fit(net, X, Y, **changes)
    assert net.epoch == 0


# Learning-rate schedules ---------------------------------------------------------

RATES = [0.05, 0.02, 0.01]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_schedule_equals_epochs_with_constant_rates(optimizer, dtype):
    X, Y, _, _ = _data((6, 9, 3), 40, dtype)
    scheduled = fastmlp.MLP([6, 9, 3], dtype=dtype, seed=3)
    stepped = fastmlp.MLP([6, 9, 3], dtype=dtype, seed=3)
    options = _fit_options(optimizer)
    del options["learning_rate"]

    history = scheduled.fit(
        X, Y, epochs=3, learning_rate=lambda epoch: RATES[epoch - 1], **options
    )
    stepped_history = []
    for rate in RATES:
        stepped_history += stepped.fit(X, Y, epochs=1, learning_rate=rate, **options)

    assert history == stepped_history
    _assert_same_parameters(scheduled, stepped)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam"])
def test_schedule_matches_reference(optimizer, dtype):
    sizes = (7, 33, 3)
    net, ref = make_pair(sizes, "tanh", "softmax", dtype)
    X, Y, X64, Y64 = _data(sizes, N_SAMPLES, dtype)
    options = _fit_options(optimizer)
    options["learning_rate"] = lambda epoch: RATES[epoch - 1]
    orders, masks = _replay(net, N_SAMPLES, options["batch_size"], 3, 0.2)

    history = net.fit(X, Y, epochs=3, **options)
    ref_history = ref.fit(X64, Y64, epochs=3, orders=orders, masks=masks, **options)

    np.testing.assert_allclose(history, ref_history, rtol=TOLERANCE[dtype])
    _assert_parameters_close(net, ref, TOLERANCE[dtype])


def test_schedule_runs_before_each_epoch():
    X, Y, _, _ = _data((6, 9, 3), 20, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=0)
    calls = []

    def schedule(epoch):
        # The model may be read from the schedule, as from the callback.
        calls.append(("schedule", epoch, net.epoch, net.weights[0].shape))
        return 0.1

    def callback(epoch, loss):
        calls.append(("callback", epoch, net.epoch, None))

    net.fit(X, Y, epochs=2, learning_rate=schedule, callback=callback)
    net.fit(X, Y, epochs=1, learning_rate=schedule)

    # Epochs count from 1 within each call; net.epoch counts every epoch.
    assert calls == [
        ("schedule", 1, 0, (9, 6)),
        ("callback", 1, 1, None),
        ("schedule", 2, 1, (9, 6)),
        ("callback", 2, 2, None),
        ("schedule", 1, 2, (9, 6)),
    ]


@pytest.mark.parametrize("model_class", [fastmlp.MLP, reference.MLP])
@pytest.mark.parametrize(
    "bad,error,shown",
    [
        (0.0, ValueError, "0.0"),
        (-0.1, ValueError, "-0.1"),
        (math.nan, ValueError, "nan"),
        (math.inf, ValueError, "inf"),
        ("0.1", TypeError, "'0.1'"),
        (None, TypeError, "None"),
    ],
)
def test_schedule_bad_rate_keeps_previous_epoch(model_class, bad, error, shown):
    X, Y, _, _ = _data((6, 9, 3), 20, "float64")
    net = model_class([6, 9, 3], dtype="float64", seed=0)
    expected = model_class([6, 9, 3], dtype="float64", seed=0)
    expected.weights, expected.biases = net.weights, net.biases
    expected.fit(X, Y, epochs=1, learning_rate=0.1, shuffle=False, optimizer="adam")

    message = (
        f"the learning_rate schedule returned {shown} for epoch 2; "
        "it must return a positive finite number"
    )
    with pytest.raises(error, match=f"^{message}$"):
        net.fit(
            X,
            Y,
            epochs=3,
            learning_rate=lambda epoch: 0.1 if epoch == 1 else bad,
            shuffle=False,
            optimizer="adam",
        )

    assert net.epoch == 1
    _assert_same_parameters(net, expected)


def test_schedule_exception_keeps_previous_epoch():
    X, Y, _, _ = _data((6, 9, 3), 20, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=0)

    def schedule(epoch):
        if epoch == 3:
            raise KeyError("no rate for epoch 3")
        return 0.05

    with pytest.raises(KeyError, match="no rate for epoch 3"):
        net.fit(X, Y, epochs=5, learning_rate=schedule, optimizer="adam")

    expected = fastmlp.MLP([6, 9, 3], seed=0)
    expected.fit(X, Y, epochs=2, learning_rate=0.05, optimizer="adam")
    assert net.epoch == 2
    _assert_same_parameters(net, expected)
    # The model trains on afterwards.
    assert len(net.fit(X, Y, epochs=1, learning_rate=schedule)) == 1


def test_learning_rate_of_wrong_type_names_schedule():
    X, Y, _, _ = _data((6, 9, 3), 20, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=0)
    with pytest.raises(
        TypeError,
        match=r"learning_rate must be a real number in \(0.0, inf\) or a callable "
        r"schedule\(epoch\) -> float, got '0.1'",
    ):
        net.fit(X, Y, learning_rate="0.1")


def test_core_rejects_bad_scheduled_rate():
    X, Y, _, _ = _data((6, 9, 3), 10, "float32")
    net = fastmlp.MLP([6, 9, 3], seed=0)
    before = net.weights

    # Past the Python wrapper that checks the schedule's values first.
    with pytest.raises(
        ValueError,
        match=r"the learning_rate schedule returned -0.5\d* for epoch 1; "
        "it must return a positive finite number",
    ):
        _core_fit(net, X, Y, learning_rate=lambda epoch: -0.5)

    assert net.epoch == 0
    for old, new in zip(before, net.weights):
        np.testing.assert_array_equal(old, new)
