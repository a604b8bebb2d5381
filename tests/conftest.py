"""Shared helpers for the fastmlp test suite."""

import numpy as np
import pytest

import fastmlp
from fastmlp import _core, reference

# Kernel builds this CPU can run, from the portable one up to the best.
_LEVELS = ["portable", "avx2", "avx512"]
SUPPORTED_ISAS = _LEVELS[: _LEVELS.index(_core.best_isa()) + 1]


def relative_error(actual, expected):
    """Return ||actual - expected|| / ||expected|| (absolute when expected is 0)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    scale = np.linalg.norm(expected)
    diff = np.linalg.norm(actual - expected)
    return diff / scale if scale > 0 else diff


def make_targets(rng, n, n_out, output):
    """Return valid targets of shape (n, n_out) for the output layer."""
    if output == "softmax":
        return np.eye(n_out)[rng.integers(0, n_out, n)]
    if output == "logistic":
        return rng.integers(0, 2, (n, n_out)).astype(np.float64)
    return rng.normal(size=(n, n_out))


def make_pair(sizes, activation, output, dtype, seed=0):
    """Return a compiled network and a float64 reference with the same parameters.

    Biases are set to small random values so the bias paths are exercised. The
    reference gets the compiled model's parameters exactly, float32-rounded when
    the compiled model is float32.
    """
    net = fastmlp.MLP(
        sizes, activation=activation, output=output, dtype=dtype, seed=seed
    )
    rng = np.random.default_rng(seed + 1000)
    net.biases = [rng.uniform(-0.1, 0.1, n_out) for n_out in sizes[1:]]
    ref = reference.MLP(sizes, activation=activation, output=output, dtype="float64")
    ref.weights = [W.astype(np.float64) for W in net.weights]
    ref.biases = [b.astype(np.float64) for b in net.biases]
    return net, ref


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(params=SUPPORTED_ISAS)
def isa(request):
    """Run the test once with each kernel build this CPU supports."""
    previous = _core.active_isa()
    _core.set_isa(request.param)
    yield request.param
    _core.set_isa(previous)
