"""Memory: no growth from epoch to epoch or call to call, and no copies of inputs
that are already C-contiguous in the model's dtype.

Resident memory comes from /proc/self/statm (Linux). Copies are measured with
tracemalloc, which records every array buffer NumPy allocates. Buffers the C++
core allocates for itself are not recorded, so the copy checks cover the
Python side, where conversions happen.
"""

import os
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLP, MLPClassifier, MLPRegressor

linux_only = pytest.mark.skipif(
    not os.path.exists("/proc/self/statm"), reason="reads /proc/self/statm"
)

# A per-epoch or per-call leak of one workspace or one copy of the parameters
# of the [100, 256, 128, 10] networks below adds at least 400 KiB each time, so
# tens of epochs add over 10 MiB. The slack allows for the growth of the
# history list and the recorded values, a new 256 KiB arena of Python's
# allocator, and pages glibc keeps after a free.
RSS_SLACK = 2 * 2**20

# A ~50 MiB float32 array: 131072 rows of 100 features.
BIG_ROWS, BIG_FEATURES = 131072, 100
# Allowed extra allocation while fitting or predicting on the big array. The
# targets, the output array and their checks take a few percent of X, while a
# copy of X, or a boolean mask of it, would take 25% or more.
NO_COPY_FRACTION = 0.15


def _resident_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _data(n, n_features, n_classes, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_features), dtype=np.float32)
    y = rng.integers(0, n_classes, n)
    return X, y


@linux_only
def test_fit_resident_memory_flat_across_epochs():
    X, y = _data(1000, 100, 10)
    net = MLP([100, 256, 128, 10], seed=0, n_threads=1)
    resident = []

    net.fit(
        X,
        y,
        epochs=40,
        batch_size=64,
        momentum=0.9,
        dropout=0.2,
        l2=1e-4,
        callback=lambda epoch, loss: resident.append(_resident_bytes()),
    )

    # The first epochs may still fault in pages of the workspace.
    growth = resident[-1] - resident[4]
    assert growth < RSS_SLACK, f"grew {growth / 2**20:.2f} MiB over 35 epochs"


@linux_only
def test_repeated_calls_resident_memory_flat():
    X, y = _data(1000, 100, 10)
    net = MLP([100, 256, 128, 10], seed=0, n_threads=1)
    resident = []

    for _ in range(30):
        net.fit(X, y, epochs=1, batch_size=64, momentum=0.9)
        net.forward(X)
        net.gradients(X[:500], y[:500], dropout=0.2)
        resident.append(_resident_bytes())

    growth = resident[-1] - resident[4]
    assert growth < RSS_SLACK, f"grew {growth / 2**20:.2f} MiB over 25 calls"


@linux_only
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_repeated_estimator_fits_resident_memory_flat():
    X, y = _data(1000, 100, 10)
    clf = MLPClassifier(
        hidden_layer_sizes=(256, 128), max_iter=1, random_state=0, n_threads=1
    )
    resident = []

    for _ in range(20):
        clf.fit(X, y)
        clf.predict_proba(X)
        resident.append(_resident_bytes())

    growth = resident[-1] - resident[4]
    assert growth < RSS_SLACK, f"grew {growth / 2**20:.2f} MiB over 15 fits"


def _traced_peak(call):
    """Return the peak bytes tracemalloc records while call runs."""
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak


@pytest.fixture(scope="module")
def big():
    X, y = _data(BIG_ROWS, BIG_FEATURES, 2)
    Y = np.eye(2, dtype=np.float32)[y]
    return X, y, Y


def test_mlp_does_not_copy_matching_input(big):
    X, y, Y = big
    net = MLP([BIG_FEATURES, 8, 2], seed=0, n_threads=1)
    limit = NO_COPY_FRACTION * X.nbytes

    assert _traced_peak(lambda: net.fit(X, Y, epochs=1, batch_size=4096)) < limit
    assert _traced_peak(lambda: net.fit(X, y, epochs=1, batch_size=4096)) < limit
    assert _traced_peak(lambda: net.forward(X)) < limit
    assert _traced_peak(lambda: net.gradients(X, Y)) < limit


def test_mlp_converts_other_input_once(big):
    # The measurement catches conversions: float64 input to a float32 model,
    # and Fortran order, each need one float32 copy of X.
    X, _, Y = big
    net = MLP([BIG_FEATURES, 8, 2], seed=0, n_threads=1)
    X64 = X.astype(np.float64)
    X_fortran = np.asfortranarray(X)

    for other in (X64, X_fortran):
        fit_peak = _traced_peak(
            lambda other=other: net.fit(other, Y, epochs=1, batch_size=4096)
        )
        forward_peak = _traced_peak(lambda other=other: net.forward(other))
        assert X.nbytes <= fit_peak < (1 + NO_COPY_FRACTION) * X.nbytes
        assert X.nbytes <= forward_peak < (1 + NO_COPY_FRACTION) * X.nbytes


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_does_not_copy_matching_input(big, kind):
    X, y, _ = big
    target = y if kind == "classifier" else X[:, 0] - X[:, 1]
    estimator_class = MLPClassifier if kind == "classifier" else MLPRegressor
    estimator = estimator_class(
        hidden_layer_sizes=(8,),
        max_iter=1,
        batch_size=4096,
        random_state=0,
        n_threads=1,
    )
    predict = estimator.predict_proba if kind == "classifier" else estimator.predict
    limit = NO_COPY_FRACTION * X.nbytes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert _traced_peak(lambda: estimator.fit(X, target)) < limit
        assert _traced_peak(lambda: predict(X)) < limit
        # Fortran order needs one C-ordered copy, which the measurement records.
        X_fortran = np.asfortranarray(X)
        assert _traced_peak(lambda: estimator.fit(X_fortran, target)) >= X.nbytes
        assert _traced_peak(lambda: predict(X_fortran)) >= X.nbytes
