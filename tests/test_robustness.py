"""fastmlp.MLP under bad input, threads, signals, callbacks and save/load."""

import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import fastmlp


def _data(n=64, n_in=6, n_out=3, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in)).astype(dtype)
    y = rng.integers(0, n_out, n)
    return X, y


def _snapshot(net):
    return [W.copy() for W in net.weights] + [b.copy() for b in net.biases]


def _assert_same_parameters(a, b):
    for x, y in zip(_snapshot(a) if not isinstance(a, list) else a, _snapshot(b)):
        np.testing.assert_array_equal(x, y)


# Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(sizes=[4]), ValueError, "at least the input and output"),
        (dict(sizes=[4, 0, 2]), ValueError, r"sizes\[1\] must be an integer >= 1"),
        (dict(sizes=[4, 2.5]), TypeError, r"sizes\[1\] must be an integer"),
        (dict(sizes=5), TypeError, "sizes must be a sequence"),
        (dict(activation="softplus"), ValueError, "activation must be one of"),
        (dict(output="sigmoid"), ValueError, "output must be one of"),
        (dict(dtype="int32"), ValueError, "dtype must be 'float32' or 'float64'"),
        (dict(seed=-1), ValueError, "seed must be None or an integer"),
        (dict(seed=1.5), TypeError, "seed must be None or an integer"),
        (dict(n_threads=0), ValueError, "n_threads must be an integer >= 1"),
        (
            dict(n_threads=2**31),
            ValueError,
            r"n_threads must be an integer in \[1, 2147483647\], got 2147483648",
        ),
        (
            dict(sizes=[4, 3, 1]),
            ValueError,
            r"output='softmax' needs at least 2 output units, got sizes\[-1\]=1; "
            "use output='logistic' for one output",
        ),
    ],
)
def test_constructor_rejects_bad_settings(kwargs, error, match):
    settings = dict(sizes=[4, 3, 2])
    settings.update(kwargs)
    with pytest.raises(error, match=match):
        fastmlp.MLP(**settings)


def test_constructor_accepts_sigmoid_and_draws_seed():
    net = fastmlp.MLP([2, 3, 1], activation="sigmoid", output="logistic")
    assert net.activation == "logistic"
    assert isinstance(net.seed, int)
    assert net.dtype == np.float32
    assert net.sizes == (2, 3, 1)


X_GOOD, Y_GOOD = _data()


@pytest.mark.parametrize(
    "X,Y,kwargs,error,match",
    [
        (
            X_GOOD[:, :5],
            Y_GOOD,
            {},
            ValueError,
            "X has 5 features, but the network expects 6",
        ),
        (X_GOOD[0], Y_GOOD, {}, ValueError, "X must be a 2-D array, got 1-D"),
        (X_GOOD[:0], Y_GOOD[:0], {}, ValueError, "at least one sample"),
        (np.where(X_GOOD > 2, np.nan, X_GOOD), Y_GOOD, {}, ValueError, "finite values"),
        (np.where(X_GOOD > 2, np.inf, X_GOOD), Y_GOOD, {}, ValueError, "finite values"),
        (X_GOOD.astype(complex), Y_GOOD, {}, TypeError, "real numbers"),
        (X_GOOD.astype(str), Y_GOOD, {}, TypeError, "real numbers"),
        (X_GOOD, Y_GOOD[:-1], {}, ValueError, "same number of samples, got 64 and 63"),
        (X_GOOD, Y_GOOD + 1, {}, ValueError, r"class indices in Y must be in \[0, 3\)"),
        (X_GOOD, np.full((64, 3), 0.5), {}, ValueError, "must sum to 1"),
        (X_GOOD, np.ones((64, 2)) / 2, {}, ValueError, r"shape \(64, 3\)"),
        (X_GOOD, Y_GOOD, dict(learning_rate=0), ValueError, "learning_rate must be in"),
        (
            X_GOOD,
            Y_GOOD,
            dict(learning_rate=-0.1),
            ValueError,
            "learning_rate must be in",
        ),
        (
            X_GOOD,
            Y_GOOD,
            dict(batch_size=0),
            ValueError,
            "batch_size must be an integer >= 1",
        ),
        (
            X_GOOD,
            Y_GOOD,
            dict(batch_size=2.0),
            TypeError,
            "batch_size must be an integer",
        ),
        (X_GOOD, Y_GOOD, dict(epochs=0), ValueError, "epochs must be an integer >= 1"),
        (
            X_GOOD,
            Y_GOOD,
            dict(epochs=2**63),
            ValueError,
            r"epochs must be an integer in \[1, 2\*\*62\], got 9223372036854775808",
        ),
        (
            X_GOOD,
            Y_GOOD,
            dict(batch_size=2**63),
            ValueError,
            r"batch_size must be an integer in \[1, 2\*\*62\], "
            r"got 9223372036854775808; 2\*\*62 is the largest value accepted",
        ),
        (
            [[0.0] * 6, [0.0] * 5],
            Y_GOOD[:2],
            {},
            ValueError,
            "X must be a rectangular array-like with rows of equal length",
        ),
        (
            X_GOOD[:2],
            [[1.0, 0.0, 0.0], [1.0]],
            {},
            ValueError,
            "Y must be a rectangular array-like with rows of equal length",
        ),
        (
            X_GOOD,
            Y_GOOD,
            dict(momentum=1.0),
            ValueError,
            r"momentum must be in \[0.0, 1.0\)",
        ),
        (X_GOOD, Y_GOOD, dict(l1=-1e-3), ValueError, "l1 must be in"),
        (X_GOOD, Y_GOOD, dict(l2=-1e-3), ValueError, "l2 must be in"),
        (
            X_GOOD,
            Y_GOOD,
            dict(dropout=1.0),
            ValueError,
            r"dropout must be in \[0.0, 1.0\)",
        ),
        (X_GOOD, Y_GOOD, dict(dropout=-0.1), ValueError, "dropout must be in"),
        (X_GOOD, Y_GOOD, dict(dropout=[0.1]), ValueError, "must hold 2 probabilities"),
        (X_GOOD, Y_GOOD, dict(penalty_scaling="sample"), ValueError, "penalty_scaling"),
        (X_GOOD, Y_GOOD, dict(callback=3), TypeError, "callback must be callable"),
    ],
)
def test_fit_rejects_bad_input_and_keeps_model(X, Y, kwargs, error, match):
    net = fastmlp.MLP([6, 5, 3], seed=0)
    before = _snapshot(net)
    options = dict(epochs=2)
    options.update(kwargs)
    with pytest.raises(error, match=match):
        net.fit(X, Y, **options)
    _assert_same_parameters(before, net)
    assert net.epoch == 0


def test_logistic_targets_must_lie_in_unit_interval():
    net = fastmlp.MLP([6, 2], output="logistic", seed=0)
    with pytest.raises(ValueError, match=r"logistic output must lie in \[0, 1\]"):
        net.fit(X_GOOD, np.full((64, 2), 1.5))


def test_assigning_weights_checks_count_and_shapes():
    net = fastmlp.MLP([4, 3, 2], seed=0)
    before = _snapshot(net)
    with pytest.raises(ValueError, match="list of 2 arrays"):
        net.weights = [np.zeros((3, 4))]
    with pytest.raises(ValueError, match=r"weights\[1\] must have shape \(2, 3\)"):
        net.weights = [np.zeros((3, 4)), np.zeros((3, 2))]
    _assert_same_parameters(before, net)
    net.weights = [np.ones((3, 4)), np.ones((2, 3), dtype=np.int64)]
    assert net.weights[1].dtype == np.float32
    assert (net.weights[1] == 1).all()


@pytest.mark.parametrize(
    "name,arrays,match",
    [
        (
            "weights",
            [np.zeros((3, 4)), np.array([[0.0, 0.0, np.nan], [0.0, 0.0, 0.0]])],
            r"weights\[1\] must contain only finite values, got nan at \(0, 2\)",
        ),
        (
            "weights",
            [np.full((3, 4), -np.inf), np.zeros((2, 3))],
            r"weights\[0\] must contain only finite values, got -inf at \(0, 0\)",
        ),
        (
            "biases",
            [np.zeros(3), np.array([0.0, np.inf])],
            r"biases\[1\] must contain only finite values, got inf at index 1",
        ),
        (
            "biases",
            [np.array([0.0, 1e300, 0.0]), np.zeros(2)],
            r"biases\[0\] has values outside the float32 range \(largest finite "
            r"3.4e\+38\): got 1e\+300 at index 1",
        ),
    ],
)
@pytest.mark.parametrize("model_class", [fastmlp.MLP, fastmlp.reference.MLP])
def test_parameter_setters_reject_non_finite_values(model_class, name, arrays, match):
    net = model_class([4, 3, 2], seed=0)
    before = [W.copy() for W in net.weights] + [b.copy() for b in net.biases]
    with pytest.raises(ValueError, match=match):
        setattr(net, name, arrays)
    after = net.weights + net.biases
    for old, new in zip(before, after):
        np.testing.assert_array_equal(old, new)


def test_load_rejects_non_finite_parameters(tmp_path):
    net = fastmlp.MLP([4, 3, 2], seed=0)
    path = tmp_path / "model.npz"
    net.save(path)
    with np.load(path) as data:
        state = dict(data)
    state["W_1"] = state["W_1"].copy()
    state["W_1"][1, 0] = np.nan
    with open(path, "wb") as file:
        np.savez(file, **state)

    with pytest.raises(
        ValueError,
        match=r"is not a valid fastmlp model: weights\[1\] must contain only "
        r"finite values, got nan at \(1, 0\)",
    ):
        fastmlp.MLP.load(path)


def test_weights_are_read_only_copies():
    net = fastmlp.MLP([4, 3, 2], seed=0)
    W = net.weights[0]
    with pytest.raises(ValueError, match="read-only"):
        W[0, 0] = 5.0
    assert net.weights[0] is not net.weights[0]


def _fit_call(**kwargs):
    """Return a call that fits a fresh [6, 5, 3] model of a given class."""
    arguments = dict(X=X_GOOD, Y=Y_GOOD, epochs=1)
    arguments.update(kwargs)
    return lambda model_class: model_class([6, 5, 3], seed=0).fit(**arguments)


def _gradients_call(dropout, masks):
    """Return a call of gradients on two samples of a fresh [6, 5, 3] model."""
    return lambda model_class: model_class([6, 5, 3], seed=0).gradients(
        X_GOOD[:2], Y_GOOD[:2], dropout=dropout, masks=masks
    )


def _set_weights(model_class, weights):
    model_class([4, 3, 2], seed=0).weights = weights


MASK_0, MASK_1 = np.ones((2, 6), dtype=bool), np.ones((2, 5), dtype=bool)

# One bad argument a case, each given to fastmlp.MLP and fastmlp.reference.MLP.
BAD_CALLS = {
    "sizes-short": lambda model_class: model_class([4]),
    "sizes-zero": lambda model_class: model_class([4, 0]),
    "sizes-float": lambda model_class: model_class([4, 2.5]),
    "sizes-scalar": lambda model_class: model_class(5),
    "activation": lambda model_class: model_class([4, 2], activation="softplus"),
    "output": lambda model_class: model_class([4, 2], output="tanh"),
    "dtype-int": lambda model_class: model_class([4, 2], dtype="int32"),
    "dtype-unknown": lambda model_class: model_class([4, 2], dtype="float17"),
    "dtype-number": lambda model_class: model_class([4, 2], dtype=3),
    "seed-negative": lambda model_class: model_class([4, 2], seed=-1),
    "seed-float": lambda model_class: model_class([4, 2], seed=1.5),
    "n_threads": lambda model_class: model_class([4, 2], n_threads=0),
    "X-1d": _fit_call(X=X_GOOD[0]),
    "X-features": _fit_call(X=X_GOOD[:, :5]),
    "X-empty": _fit_call(X=X_GOOD[:0], Y=Y_GOOD[:0]),
    "X-complex": _fit_call(X=X_GOOD.astype(complex)),
    "X-nan": _fit_call(X=np.where(X_GOOD > 2, np.nan, X_GOOD)),
    "Y-length": _fit_call(Y=Y_GOOD[:-1]),
    "Y-class": _fit_call(Y=Y_GOOD + 1),
    "Y-float-labels": _fit_call(Y=Y_GOOD.astype(float)),
    "Y-row-sum": _fit_call(Y=np.full((64, 3), 0.5)),
    "Y-negative": _fit_call(Y=np.tile([-1.0, 1.0, 1.0], (64, 1))),
    "Y-shape": _fit_call(Y=np.ones((64, 2)) / 2),
    "epochs": _fit_call(epochs=0),
    "batch_size": _fit_call(batch_size=2.0),
    "learning_rate": _fit_call(learning_rate=0),
    "momentum": _fit_call(momentum=1.0),
    "nesterov": _fit_call(nesterov=1),
    "l1": _fit_call(l1=-1e-3),
    "l2-nan": _fit_call(l2=float("nan")),
    "l2-string": _fit_call(l2="0.1"),
    "dropout-one": _fit_call(dropout=1.0),
    "dropout-count": _fit_call(dropout=[0.1]),
    "dropout-string": _fit_call(dropout="0.5"),
    "dropout-none": _fit_call(dropout=None),
    "shuffle": _fit_call(shuffle="yes"),
    "callback": _fit_call(callback=3),
    "penalty_scaling": _fit_call(penalty_scaling="sample"),
    "optimizer": _fit_call(optimizer="adagrad"),
    "optimizer-momentum": _fit_call(optimizer="adam", momentum=0.9),
    "beta_1": _fit_call(beta_1=1.0),
    "beta_2-nan": _fit_call(beta_2=float("nan")),
    "rho": _fit_call(rho=-0.5),
    "epsilon": _fit_call(epsilon=0.0),
    "sample_weight-2d": _fit_call(sample_weight=np.ones((64, 1))),
    "sample_weight-length": _fit_call(sample_weight=np.ones(63)),
    "sample_weight-nan": _fit_call(sample_weight=np.r_[np.ones(63), np.nan]),
    "sample_weight-negative": _fit_call(sample_weight=np.r_[np.ones(63), -1.0]),
    "sample_weight-zeros": _fit_call(sample_weight=np.zeros(64)),
    "sample_weight-complex": _fit_call(sample_weight=np.ones(64, dtype=complex)),
    "sample_weight-gradients": lambda model_class: model_class(
        [6, 5, 3], seed=0
    ).gradients(X_GOOD[:2], Y_GOOD[:2], sample_weight=[1.0, -2.0]),
    "masks-no-dropout": _gradients_call(None, [None, MASK_1]),
    "masks-count": _gradients_call(0.5, [MASK_0]),
    "masks-array": _gradients_call(0.5, np.ones((2, 2, 5), dtype=bool)),
    "masks-dtype": _gradients_call(0.5, [None, MASK_1.astype(np.float32)]),
    "masks-shape": _gradients_call(0.5, [None, MASK_0]),
    "masks-p-zero": _gradients_call(0.5, [MASK_0, MASK_1]),
    "weights-count": lambda model_class: _set_weights(model_class, [np.zeros((3, 4))]),
    "weights-shape": lambda model_class: _set_weights(
        model_class, [np.zeros((3, 4)), np.zeros((3, 2))]
    ),
    "weights-complex": lambda model_class: _set_weights(
        model_class, [np.zeros((3, 4)), np.zeros((2, 3), dtype=complex)]
    ),
    "weights-generator": lambda model_class: _set_weights(
        model_class, (np.zeros(shape) for shape in [(3, 4), (2, 3)])
    ),
    "weights-nan": lambda model_class: _set_weights(
        model_class, [np.zeros((3, 4)), np.full((2, 3), np.nan)]
    ),
    "weights-ragged": lambda model_class: _set_weights(
        model_class, [np.zeros((3, 4)), [[0.0] * 3, [0.0] * 2]]
    ),
    "softmax-one-output": lambda model_class: model_class([4, 1], output="softmax"),
    "X-ragged": _fit_call(X=[[0.0] * 6, [0.0] * 5], Y=Y_GOOD[:2]),
    "X-float32-overflow": _fit_call(X=np.full((64, 6), 1e39)),
    "epochs-huge": _fit_call(epochs=2**63),
    "batch_size-huge": _fit_call(batch_size=2**63),
}


@pytest.mark.parametrize("call", list(BAD_CALLS.values()), ids=list(BAD_CALLS))
def test_reference_rejects_bad_input_like_mlp(call):
    with pytest.raises((TypeError, ValueError)) as compiled:
        call(fastmlp.MLP)
    with pytest.raises((TypeError, ValueError)) as reference:
        call(fastmlp.reference.MLP)

    assert type(reference.value) is type(compiled.value)
    assert str(reference.value) == str(compiled.value)


@pytest.mark.parametrize("model_class", [fastmlp.MLP, fastmlp.reference.MLP])
def test_input_outside_float32_range_is_rejected(model_class):
    net = model_class([6, 5, 3], seed=0)
    X = np.zeros((4, 6))
    X[2, 1] = -1e300
    X[3, 0] = 1e300

    # A cast would overflow to -inf with a RuntimeWarning, which pytest turns
    # into an error, so passing also shows that no warning escapes.
    with pytest.raises(
        ValueError,
        match=r"^X has values outside the float32 range \(largest finite "
        r"3.4e\+38\): got -1e\+300 in row 2; scale X or use dtype='float64'$",
    ):
        net.forward(X)
    with pytest.raises(ValueError, match="^Y has values outside the float32 range"):
        model_class([6, 2], output="identity", seed=0).fit(
            np.zeros((4, 6)), np.full((4, 2), 1e300)
        )


def test_float64_model_accepts_huge_input():
    net = fastmlp.MLP([6, 5, 3], dtype="float64", seed=0)
    X = np.zeros((4, 6))
    X[0, 0] = 1e300

    assert net.forward(X).shape == (4, 3)


# float32 input reaches a float32 model without conversion, and forward then
# leaves the scan for NaN and infinity to the core.
@pytest.mark.parametrize("input_dtype", [np.float64, np.float32])
@pytest.mark.parametrize("value,shown", [(np.nan, "nan"), (-np.inf, "-inf")])
def test_non_finite_input_reported_before_cast(value, shown, input_dtype):
    net = fastmlp.MLP([6, 5, 3], seed=0)
    X = np.zeros((4, 6), dtype=input_dtype)
    X[3, 5] = value

    # The message applies to forward and gradients as much as to fit.
    message = (
        f"^X must contain only finite values, got {shown} in row 3; "
        "remove or impute NaN and infinity first$"
    )
    with pytest.raises(ValueError, match=message):
        net.forward(X)
    with pytest.raises(ValueError, match=message):
        net.gradients(X, [0, 1, 2, 0])


def test_network_too_large_names_its_size():
    # 2**55 x 3 float32 weights take 2**58.6 bytes, more than a 64-bit process
    # can address (2**57 with 5-level paging), so the allocation fails whatever
    # the kernel's overcommit setting.
    with pytest.raises(MemoryError, match=r"sizes=\[3, 36028797018963968, 2\] needs "):
        fastmlp.MLP([3, 2**55, 2])


def test_fit_accepts_batch_size_up_to_limit():
    net = fastmlp.MLP([6, 5, 3], seed=0)

    history = net.fit(X_GOOD, Y_GOOD, epochs=1, batch_size=2**62)

    assert len(history) == 1


def test_assigning_ragged_weights_names_the_layer():
    net = fastmlp.MLP([2, 2, 2], seed=0)

    with pytest.raises(ValueError, match=r"weights\[1\] must be a rectangular"):
        net.weights = [np.zeros((2, 2)), [[0.0, 0.0], [0.0]]]


def test_inputs_of_any_layout_are_converted_not_misread():
    X, y = _data(n=30, n_in=5)
    net = fastmlp.MLP([5, 4, 3], dtype="float64", seed=0)
    expected = net.forward(X.astype(np.float64))
    variants = [
        np.asfortranarray(X),
        X.astype(np.float64)[:, ::-1][:, ::-1],
        np.repeat(X, 2, axis=0)[::2],
        X.tolist(),
        X.astype(np.float16).astype(np.float32),
    ]
    for variant in variants[:-1]:
        np.testing.assert_array_equal(net.forward(variant), expected)
    # float16 input is rounded, then computed in float64.
    assert net.forward(variants[-1]).dtype == np.float64


@pytest.mark.parametrize(
    "weights,error,match",
    [
        (
            np.ones((64, 1)),
            ValueError,
            r"^sample_weight must be a 1-D array with one weight per sample, shape "
            r"\(64,\), got shape \(64, 1\)$",
        ),
        (np.ones(10), ValueError, r"shape \(64,\), got shape \(10,\)$"),
        (
            np.r_[np.ones(5), np.inf, np.ones(58)],
            ValueError,
            r"^sample_weight must contain only finite values, got inf at index 5$",
        ),
        (
            np.r_[np.ones(7), -0.5, np.ones(56)],
            ValueError,
            r"^sample_weight must be >= 0, got -0.5 at index 7$",
        ),
        (
            np.zeros(64),
            ValueError,
            "^sample_weight must contain at least one positive weight, got all zeros$",
        ),
        (
            np.full(64, 1e-46),
            ValueError,
            r"got weights that are all 0 in float32 \(largest 1e-46\); scale them up$",
        ),
        (["a"] * 64, TypeError, "^sample_weight must hold real numbers"),
    ],
)
def test_sample_weight_rejected_before_training(weights, error, match):
    net = fastmlp.MLP([6, 5, 3], seed=0)
    before = _snapshot(net)
    with pytest.raises(error, match=match):
        net.fit(X_GOOD, Y_GOOD, epochs=1, sample_weight=weights)
    with pytest.raises(error, match=match):
        net.gradients(X_GOOD, Y_GOOD, sample_weight=weights)
    _assert_same_parameters(before, net)
    assert net.epoch == 0


@pytest.mark.parametrize("call", ["forward", "fit"])
def test_none_input_named(call):
    net = fastmlp.MLP([6, 5, 3], seed=0)
    with pytest.raises(TypeError, match="^X must be an array-like, got None$"):
        if call == "forward":
            net.forward(None)
        else:
            net.fit(None, Y_GOOD, epochs=1)


@pytest.mark.parametrize(
    "weights,match",
    [
        ([1.0, -1.0], r"sample_weight must be finite and >= 0, got -1.0+ at index 1"),
        ([np.nan, 1.0], "sample_weight must be finite and >= 0, got nan at index 0"),
        ([0.0, 0.0], "sample_weight must contain a positive weight, got all zeros"),
        ([1.0], r"sample_weight must have shape \(2,\), got \(1,\)"),
    ],
)
def test_core_rejects_bad_sample_weight(weights, match):
    # Past the Python checks, straight into the compiled module.
    net = fastmlp.MLP([6, 5, 3], dtype="float64", seed=0)
    X, Y = X_GOOD[:2].astype(np.float64), np.eye(3)[Y_GOOD[:2]]
    no_masks, no_dropout = [None, None], [0.0, 0.0]
    with pytest.raises(ValueError, match=match):
        net._core.gradients(X, Y, np.array(weights), no_masks, no_dropout, 1)


# Sample weights -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_unit_weights_give_same_bits_as_none(dtype):
    X, y = _data(n=90, n_in=7, dtype=dtype)
    options = dict(
        epochs=3,
        batch_size=8,
        learning_rate=0.01,
        optimizer="adam",
        dropout=0.2,
        l2=0.1,
        penalty_scaling="batch",
    )
    plain = fastmlp.MLP([7, 12, 3], dtype=dtype, seed=5)
    weighted = fastmlp.MLP([7, 12, 3], dtype=dtype, seed=5)

    assert plain.fit(X, y, **options) == weighted.fit(
        X, y, sample_weight=np.ones(90), **options
    )
    _assert_same_parameters(plain, weighted)

    loss, dW, db = plain.gradients(X, y)
    weighted_loss, weighted_dW, weighted_db = plain.gradients(
        X, y, sample_weight=np.ones(90)
    )
    assert loss == weighted_loss
    for a, b in zip(dW + db, weighted_dW + weighted_db):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("model_class", [fastmlp.MLP, fastmlp.reference.MLP])
def test_integer_weights_equal_repeated_rows(model_class):
    X, y = _data(n=12, n_in=6, dtype=np.float64)
    counts = np.array([1, 3, 0, 2, 1, 1, 4, 0, 1, 2, 1, 1])
    net = model_class([6, 5, 3], dtype="float64", seed=0)

    loss, dW, db = net.gradients(X, y, sample_weight=counts)
    repeated = np.repeat(np.arange(12), counts)
    repeated_loss, repeated_dW, repeated_db = net.gradients(X[repeated], y[repeated])

    # The same sums, grouped differently: a few float64 roundings apart.
    assert loss == pytest.approx(repeated_loss, rel=1e-13)
    for a, b in zip(dW + db, repeated_dW + repeated_db):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_zero_weight_batch_takes_no_step():
    X, y = _data(n=40, n_in=6)
    weights = np.r_[np.zeros(8), np.ones(32)]
    options = dict(epochs=2, batch_size=8, shuffle=False, optimizer="adam", l2=0.1)
    weighted = fastmlp.MLP([6, 5, 3], seed=0)
    trimmed = fastmlp.MLP([6, 5, 3], seed=0)

    history = weighted.fit(X, y, sample_weight=weights, **options)
    trimmed_history = trimmed.fit(X[8:], y[8:], **options)

    # The first batch neither updates nor counts in the epoch's mean loss.
    assert history == trimmed_history
    _assert_same_parameters(weighted, trimmed)
    assert weighted._core.adam_step == trimmed._core.adam_step == 8


def test_zero_weight_row_with_overflowing_loss_ignored():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(6, 4))
    Y = rng.normal(size=(6, 2))
    Y[0] = 1e200  # its squared error overflows float64 to inf
    net = fastmlp.MLP([4, 5, 2], output="identity", dtype="float64", seed=0)
    weights = np.array([0.0, 1.0, 2.0, 1.0, 1.0, 3.0])

    loss, dW, db = net.gradients(X, Y, sample_weight=weights)
    kept_loss, kept_dW, kept_db = net.gradients(X[1:], Y[1:], sample_weight=weights[1:])

    assert np.isfinite(loss)
    # Only the place of the zero row in the sums differs.
    assert loss == pytest.approx(kept_loss, rel=1e-14)
    for a, b in zip(dW + db, kept_dW + kept_db):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


# Determinism and state ----------------------------------------------------------


def _train(n_threads, seed=3, dtype="float32", **options):
    X, y = _data(n=300, n_in=70, n_out=10, dtype=dtype)
    net = fastmlp.MLP([70, 65, 33, 10], dtype=dtype, seed=seed, n_threads=n_threads)
    defaults = dict(
        epochs=3, batch_size=64, learning_rate=0.05, momentum=0.9, dropout=0.2
    )
    defaults.update(options)
    history = net.fit(X, y, **defaults)
    return net, history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_bits_with_one_and_two_threads(dtype):
    one, history_one = _train(1, dtype=dtype)
    two, history_two = _train(2, dtype=dtype)
    assert history_one == history_two
    _assert_same_parameters(one, two)
    X, _ = _data(n=300, n_in=70, n_out=10, dtype=dtype)
    np.testing.assert_array_equal(one.forward(X), two.forward(X))


# Each optimizer once, with momentum for SGD, which has no other state.
THREAD_OPTIMIZERS = {
    "sgd": {"momentum": 0.9},
    "rmsprop": {"optimizer": "rmsprop", "learning_rate": 0.001},
    "adam": {"optimizer": "adam", "learning_rate": 0.001},
}


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("optimizer", THREAD_OPTIMIZERS)
def test_same_bits_with_threads_on_parallel_sizes(optimizer):
    # Large enough that the GEMMs, the elementwise loops and the update all
    # split over threads (each layer has at least 2^17 weights or activations).
    X, y = _data(n=1024, n_in=256, n_out=10)
    options = dict(
        epochs=2,
        batch_size=512,
        learning_rate=0.05,
        dropout=[0.1, 0.2, 0.2],
        l1=1e-5,
        l2=1e-4,
    )
    options.update(THREAD_OPTIMIZERS[optimizer])
    results = []
    for n_threads in (1, 2, 3):
        net = fastmlp.MLP([256, 512, 256, 10], seed=4, n_threads=n_threads)
        history = net.fit(X, y, **options)
        results.append((history, _snapshot(net), net.forward(X)))
    for history, parameters, outputs in results[1:]:
        assert history == results[0][0]
        for a, b in zip(parameters, results[0][1]):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(outputs, results[0][2])


def test_same_bits_under_omp_num_threads():
    # OMP_NUM_THREADS must reach the runtime before it starts, so each thread
    # count runs in its own interpreter.
    script = (
        "import numpy as np, fastmlp\n"
        "rng = np.random.default_rng(0)\n"
        "X = rng.normal(size=(200, 70)).astype(np.float32)\n"
        "y = rng.integers(0, 10, 200)\n"
        "net = fastmlp.MLP([70, 65, 10], seed=1)\n"
        "net.fit(X, y, epochs=2, batch_size=50, dropout=0.3, momentum=0.9)\n"
        "print(fastmlp._core.max_threads(), net.weights[0].tobytes().hex()[:4000])\n"
    )
    outputs = {}
    for threads in ("1", "2"):
        env = dict(os.environ, OMP_NUM_THREADS=threads)
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        reported, weights = result.stdout.split()
        assert reported == threads
        outputs[threads] = weights
    assert outputs["1"] == outputs["2"]


def test_same_seed_same_result_and_different_seed_differs():
    a, _ = _train(None, seed=7)
    b, _ = _train(None, seed=7)
    c, _ = _train(None, seed=8)
    _assert_same_parameters(a, b)
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_fit_in_two_calls_equals_one_call():
    whole, history = _train(None, epochs=4)
    split, first = _train(None, epochs=1)
    X, y = _data(n=300, n_in=70, n_out=10)
    second = split.fit(
        X, y, epochs=3, batch_size=64, learning_rate=0.05, momentum=0.9, dropout=0.2
    )
    assert first + second == history
    assert split.epoch == whole.epoch == 4
    _assert_same_parameters(whole, split)


def test_both_dtypes_start_from_the_same_rounded_weights():
    a = fastmlp.MLP([9, 17, 3], dtype="float32", seed=5)
    b = fastmlp.MLP([9, 17, 3], dtype="float64", seed=5)
    for Wa, Wb in zip(a.weights, b.weights):
        np.testing.assert_array_equal(Wa, Wb.astype(np.float32))
    # He bound for the relu hidden layer, Glorot for the output layer.
    assert np.abs(b.weights[0]).max() <= np.sqrt(6 / 9)
    assert np.abs(b.weights[0]).max() > 0.9 * np.sqrt(6 / 9)
    assert np.abs(b.weights[1]).max() <= np.sqrt(6 / 20)


# Callbacks, signals and the GIL -------------------------------------------------


def test_callback_sees_each_epoch_and_can_stop():
    seen = []

    def callback(epoch, loss):
        seen.append((epoch, loss))
        return epoch == 3

    X, y = _data()
    net = fastmlp.MLP([6, 5, 3], seed=0)
    history = net.fit(X, y, epochs=10, callback=callback)
    assert [e for e, _ in seen] == [1, 2, 3]
    assert history == [loss for _, loss in seen]
    assert net.epoch == 3


def test_callback_exception_propagates():
    def callback(epoch, loss):
        raise KeyError("from the callback")

    X, y = _data()
    net = fastmlp.MLP([6, 5, 3], seed=0)
    with pytest.raises(KeyError, match="from the callback"):
        net.fit(X, y, epochs=5, callback=callback)
    assert net.epoch == 1


def _large_problem():
    X, y = _data(n=20000, n_in=100, n_out=10)
    return fastmlp.MLP([100, 256, 256, 10], seed=0), X, y


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(),
    reason="signals reach only the main thread",
)
def test_ctrl_c_stops_fit_with_consistent_model():
    net, X, y = _large_problem()
    timer = threading.Timer(0.3, signal.raise_signal, args=(signal.SIGINT,))
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        net.fit(X, y, epochs=1000, batch_size=32)
    elapsed = time.monotonic() - started
    timer.join()
    # The model is usable: finite weights, and training can go on.
    assert all(np.isfinite(W).all() for W in net.weights)
    assert np.isfinite(net.forward(X[:10])).all()
    assert elapsed < 60  # far below the 1000 epochs the call asked for
    assert len(net.fit(X[:100], y[:100], epochs=1)) == 1


def test_fit_releases_the_gil():
    net, X, y = _large_problem()
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    counter = threading.Thread(target=count)
    counter.start()
    started = time.monotonic()
    # Twenty epochs take a few hundred milliseconds with the fastest kernels.
    net.fit(X, y, epochs=20, batch_size=256)
    finished = time.monotonic()
    done.set()
    counter.join()
    during = [t for t in ticks if started < t < finished]
    # With the GIL held for the whole fit the counter would not run at all.
    assert finished - started > 0.05
    assert len(during) >= 5


# Save, load and pickle ------------------------------------------------------------


def test_save_load_round_trip_keeps_everything(tmp_path):
    net, _ = _train(None, dtype="float64")
    path = tmp_path / "model.bin"
    net.save(path)
    assert path.exists()
    assert not (tmp_path / "model.bin.npz").exists()
    loaded = fastmlp.MLP.load(path)
    for name in (
        "sizes",
        "activation",
        "output",
        "dtype",
        "seed",
        "n_threads",
        "epoch",
    ):
        assert getattr(loaded, name) == getattr(net, name), name
    _assert_same_parameters(net, loaded)

    # Optimizer state and epoch counter persist: training on gives equal bits.
    X, y = _data(n=300, n_in=70, n_out=10, dtype=np.float64)
    options = dict(
        epochs=1, batch_size=64, learning_rate=0.05, momentum=0.9, dropout=0.2
    )
    assert net.fit(X, y, **options) == loaded.fit(X, y, **options)
    _assert_same_parameters(net, loaded)


def test_pickle_round_trip():
    net, _ = _train(None)
    clone = pickle.loads(pickle.dumps(net))
    _assert_same_parameters(net, clone)
    X, _ = _data(n=300, n_in=70, n_out=10)
    np.testing.assert_array_equal(net.forward(X), clone.forward(X))


def test_load_rejects_damaged_files(tmp_path):
    net = fastmlp.MLP([4, 3, 2], seed=0)
    path = tmp_path / "model.npz"
    net.save(path)
    data = path.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable fastmlp model"):
        fastmlp.MLP.load(tmp_path / "truncated.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="is missing"):
        fastmlp.MLP.load(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError):
        fastmlp.MLP.load(tmp_path / "absent.npz")


@pytest.mark.parametrize(
    "content",
    [b"hello, not a model\n", b"", b"\x93NUMPY garbage"],
    ids=["text", "empty", "bad-npy-header"],
)
def test_load_rejects_files_that_are_not_npz(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)

    with pytest.raises(ValueError) as error:
        fastmlp.MLP.load(path)

    assert str(error.value) == (
        f"{str(path)!r} is not a fastmlp model file (not a NumPy .npz archive)"
    )
    # NumPy's own message for a text file suggests unpickling it.
    assert "pickle" not in str(error.value)
    assert error.value.__cause__ is not None


def test_load_rejects_npy_file(tmp_path):
    path = tmp_path / "array.npy"
    np.save(path, np.zeros(3))

    with pytest.raises(ValueError, match=r"is not a fastmlp model file \(not a NumPy"):
        fastmlp.MLP.load(path)


@pytest.mark.parametrize("path", [5, b"model.npz", None])
def test_save_and_load_reject_non_path(tmp_path, path):
    net = fastmlp.MLP([4, 3, 2], seed=0)
    match = "path must be a str or os.PathLike"

    with pytest.raises(TypeError, match=match):
        net.save(path)
    with pytest.raises(TypeError, match=match):
        fastmlp.MLP.load(path)


def test_save_leaves_file_descriptor_alone(tmp_path):
    net = fastmlp.MLP([4, 3, 2], seed=0)
    with open(tmp_path / "other.txt", "wb") as file:
        with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
            net.save(file.fileno())
        # The descriptor is still open and nothing was written to it.
        file.write(b"still open")
    assert (tmp_path / "other.txt").read_bytes() == b"still open"
