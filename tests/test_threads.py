"""Threads: identical bits for any thread count, concurrent predictions, fork,
and fastmlp's OpenMP runtime next to NumPy, threadpoolctl and joblib.

OpenMP thread counts are read from /proc/self/task, so those tests need Linux.
GNU OpenMP adds n - 1 worker threads for a team of n and keeps them between
regions. A fresh process that runs teams of growing size therefore has n - 1
more threads than at its start after each of them.
"""

import concurrent.futures
import ctypes
import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
import warnings

import joblib
import numpy as np
import pytest
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning

import fastmlp
from fastmlp import _core

linux_only = pytest.mark.skipif(
    not os.path.isdir("/proc/self/task"), reason="counts threads in /proc/self/task"
)

# Large enough that every GEMM, elementwise loop and update of a fit splits
# over threads: each layer has at least 2^17 weights or activations per batch.
N_SAMPLES, N_FEATURES, N_HIDDEN, N_CLASSES, BATCH = 1024, 256, 512, 10, 512


def _problem(dtype=np.float32):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype(dtype)
    y = rng.integers(0, N_CLASSES, N_SAMPLES)
    return X, y


def _fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _estimator_state(estimator, X):
    """Return everything a fitted estimator computed, as a list of arrays."""
    outputs = (
        estimator.predict_proba(X)
        if hasattr(estimator, "predict_proba")
        else estimator.predict(X)
    )
    return [
        *estimator.coefs_,
        *estimator.intercepts_,
        np.array(estimator.loss_curve_),
        outputs,
    ]


def _assert_same_arrays(first, second):
    assert len(first) == len(second)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def _estimator(kind, **params):
    """Return a classifier or regressor that trains with dropout and momentum."""
    settings = dict(
        hidden_layer_sizes=(N_HIDDEN,),
        batch_size=BATCH,
        max_iter=2,
        dropout=[0.1, 0.3],
        learning_rate_init=0.01,
        random_state=0,
    )
    settings.update(params)
    if kind == "classifier":
        return fastmlp.MLPClassifier(**settings)
    return fastmlp.MLPRegressor(**settings)


def _targets(kind, X, y):
    return y if kind == "classifier" else X[:, :2] - X[:, 2:4]


# Determinism ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_same_bits_for_one_two_three_threads(kind):
    X, y = _problem()
    targets = _targets(kind, X, y)
    runs = []
    for n_threads in (1, 2, 3, 3, 2, 1):
        estimator = _fit_quietly(_estimator(kind, n_threads=n_threads), X, targets)
        runs.append(_estimator_state(estimator, X))

    for run in runs[1:]:
        _assert_same_arrays(run, runs[0])


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("batch_size", [1, 3, 64])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_same_bits_across_threads(batch_size, dtype):
    # The first layer has 2^17 weights, so one-sample forward products and
    # fused updates split over threads. A batch of 3 takes the scratch-row path,
    # and a batch of 64 the packed products.
    X, y = _problem(dtype)
    n = 128 if batch_size == 64 else 24
    X, y = X[:n], y[:n]
    runs = []
    for n_threads in (1, 2, 3):
        net = fastmlp.MLP(
            [N_FEATURES, N_HIDDEN, N_CLASSES], dtype=dtype, seed=0, n_threads=n_threads
        )
        history = net.fit(
            X,
            y,
            epochs=2,
            batch_size=batch_size,
            l2=1e-3,
            l1=1e-4,
            momentum=0.5,
            dropout=0.2,
        )
        runs.append([*net.weights, *net.biases, net.forward(X[:1]), np.array(history)])

    for run in runs[1:]:
        _assert_same_arrays(run, runs[0])


ESTIMATOR_DIGEST_SCRIPT = """
import hashlib, warnings
import numpy as np
import fastmlp
from sklearn.exceptions import ConvergenceWarning

warnings.simplefilter("ignore", ConvergenceWarning)
rng = np.random.default_rng(0)
X = rng.normal(size=(1024, 256)).astype(np.float32)
y = rng.integers(0, 10, 1024)
clf = fastmlp.MLPClassifier(
    hidden_layer_sizes=(512,), batch_size=512, max_iter=2, dropout=0.2,
    random_state=0,
).fit(X, y)
digest = hashlib.sha256()
for array in (*clf.coefs_, *clf.intercepts_, clf.predict_proba(X)):
    digest.update(array.tobytes())
digest.update(np.array(clf.loss_curve_).tobytes())
print(fastmlp.config()["threads"], digest.hexdigest())
"""


def test_estimator_same_bits_under_omp_num_threads():
    # OMP_NUM_THREADS is read when the OpenMP runtime starts, so each setting
    # runs in its own interpreter, with n_threads=None.
    digests = {}
    for threads in ("1", "3"):
        result = subprocess.run(
            [sys.executable, "-c", ESTIMATOR_DIGEST_SCRIPT],
            env=dict(os.environ, OMP_NUM_THREADS=threads),
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        reported, digest = result.stdout.split()
        assert reported == threads
        digests[threads] = digest

    assert digests["1"] == digests["3"]


def test_int_random_state_ignores_numpy_global_state():
    X, y = _problem()
    X, y = X[:200, :20], y[:200]
    params = dict(hidden_layer_sizes=(16,), n_threads=1, batch_size=32)
    states = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        before = np.random.get_state()
        estimator = _fit_quietly(_estimator("classifier", **params), X, y)
        after = np.random.get_state()
        states.append(_estimator_state(estimator, X))
        # Nothing drew from the global generator either.
        assert before[0] == after[0]
        np.testing.assert_array_equal(before[1], after[1])
        assert before[2:] == after[2:]

    _assert_same_arrays(states[0], states[1])


def test_mlp_never_reads_numpy_global_state():
    X, y = _problem()
    X, y = X[:200, :20], y[:200]
    np.random.seed(0)
    first = fastmlp.MLP([20, 16, N_CLASSES], seed=None)
    np.random.seed(0)
    second = fastmlp.MLP([20, 16, N_CLASSES], seed=None)
    # seed=None draws from the operating system, not from np.random.
    assert first.seed != second.seed

    runs = []
    for global_seed in (1, 2):
        np.random.seed(global_seed)
        net = fastmlp.MLP([20, 16, N_CLASSES], seed=5)
        history = net.fit(X, y, epochs=2, dropout=0.3, shuffle=True)
        runs.append((history, [*net.weights, *net.biases, net.forward(X)]))
    assert runs[0][0] == runs[1][0]
    _assert_same_arrays(runs[0][1], runs[1][1])


# Concurrent predictions -------------------------------------------------------------


def _run_concurrently(calls, n_workers=6, repeats=8):
    """Run every call `repeats` times from a pool of threads; return the results."""
    jobs = [(i, call) for _ in range(repeats) for i, call in enumerate(calls)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=n_workers) as pool:
        futures = [(i, pool.submit(call)) for i, call in jobs]
        return [(i, future.result(timeout=120)) for i, future in futures]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_concurrent_forward_and_gradients_match_serial(dtype):
    X, y = _problem(dtype)
    X, y = X[:, :64], y
    nets = [
        fastmlp.MLP([64, 96, 33, N_CLASSES], dtype=dtype, seed=0, n_threads=n)
        for n in (None, 1, 2)
    ]
    for net in nets:
        net.fit(X, y, epochs=1, batch_size=128)
    # One row, a few rows, and more rows than one prediction chunk (2048), so
    # every caller grows its own workspace while others use theirs.
    X_big = np.concatenate([X, X, X])
    calls = []
    for net in nets:
        calls += [
            lambda net=net: net.forward(X[:1]),
            lambda net=net: net.forward(X[:7]),
            lambda net=net: net.forward(X_big),
            lambda net=net: net.gradients(X[:50], y[:50]),
        ]
    serial = [call() for call in calls]

    for i, result in _run_concurrently(calls):
        if isinstance(result, tuple):
            loss, dW, db = result
            assert loss == serial[i][0]
            _assert_same_arrays([*dW, *db], [*serial[i][1], *serial[i][2]])
        else:
            np.testing.assert_array_equal(result, serial[i])


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_concurrent_predict_matches_serial(kind):
    X, y = _problem()
    X = X[:, :64]
    estimator = _fit_quietly(
        _estimator(
            kind,
            hidden_layer_sizes=(96, 33),
            dropout=0.1,
            max_iter=1,
            n_threads=2,
        ),
        X,
        _targets(kind, X, y),
    )
    X_big = np.concatenate([X, X, X])
    calls = [
        lambda: estimator.predict(X[:3]),
        lambda: estimator.predict(X_big),
    ]
    if kind == "classifier":
        calls += [
            lambda: estimator.predict_proba(X[:1]),
            lambda: estimator.predict_proba(X_big),
        ]
    serial = [call() for call in calls]

    for i, result in _run_concurrently(calls):
        np.testing.assert_array_equal(result, serial[i])


def _train_in_child(queue):
    """Child process body: repeat the parent's training; return digests."""
    queue.put(_training_digests())


def _training_digests():
    """Train an MLP and a classifier; return a digest of each one's results."""
    X, y = _problem()
    net = fastmlp.MLP([N_FEATURES, N_HIDDEN, N_CLASSES], seed=0)
    history = net.fit(X, y, epochs=1, batch_size=BATCH, dropout=0.2)
    clf = _fit_quietly(_estimator("classifier", max_iter=1), X, y)
    digests = []
    for arrays in (
        [*net.weights, *net.biases, net.forward(X), np.array(history)],
        _estimator_state(clf, X),
    ):
        digest = hashlib.sha256()
        for array in arrays:
            digest.update(np.ascontiguousarray(array).tobytes())
        digests.append(digest.hexdigest())
    return digests


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork()"
)
# Python 3.12 and later warn when a process with threads forks, and the OpenMP
# workers count. Forking after training is what this test checks.
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_forked_child_repeats_parent_training_bit_for_bit():
    # The parent trains first, so its OpenMP thread pool exists when it forks.
    # The child runs every loop on one thread and must still match exactly.
    expected = _training_digests()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_train_in_child, args=(queue,))
    child.start()
    child.join(120)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "the forked child did not finish within 120 s"
    assert child.exitcode == 0

    assert queue.get(timeout=5) == expected


# The OpenMP runtime next to NumPy ---------------------------------------------------


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def _core_openmp_library():
    """Return the real path of the OpenMP runtime that fastmlp._core calls."""
    # dlsym on the module's handle searches the module and then the libraries
    # it links, so it finds omp_get_max_threads in the runtime _core uses.
    function = ctypes.CDLL(_core.__file__).omp_get_max_threads
    dladdr = ctypes.CDLL(None).dladdr
    dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
    info = _DlInfo()
    assert dladdr(ctypes.cast(function, ctypes.c_void_p), ctypes.byref(info))
    return os.path.realpath(info.dli_fname.decode())


@linux_only
def test_threadpoolctl_lists_fastmlp_openmp_runtime():
    runtime = _core_openmp_library()

    listed = {
        os.path.realpath(library["filepath"]): library
        for library in threadpoolctl.threadpool_info()
    }

    assert runtime in listed, f"{runtime} not in {sorted(listed)}"
    assert listed[runtime]["user_api"] == "openmp"
    assert listed[runtime]["num_threads"] == _core.max_threads()


def test_threadpool_limits_caps_fastmlp_threads():
    before = fastmlp.config()["threads"]

    with threadpoolctl.threadpool_limits(1, user_api="openmp"):
        assert fastmlp.config()["threads"] == 1
        assert _core.max_threads() == 1

    assert fastmlp.config()["threads"] == before


THREAD_COUNT_SCRIPT = """
import json, os
import numpy as np
from threadpoolctl import threadpool_limits
import fastmlp

rng = np.random.default_rng(0)
X = rng.normal(size=(1024, 256)).astype(np.float32)
y = rng.integers(0, 10, 1024)


def count_threads():
    return len(os.listdir("/proc/self/task"))


def threads_added(n_threads):
    net = fastmlp.MLP([256, 512, 10], seed=0, n_threads=n_threads)
    net.fit(X, y, epochs=1, batch_size=512)
    net.forward(X)
    return count_threads() - baseline


baseline = count_threads()
added = {}
with threadpool_limits(1, user_api="openmp"):
    added["limited"] = threads_added(None)
for n_threads in (1, 2, 3):
    added[str(n_threads)] = threads_added(n_threads)
added["default"] = threads_added(None)
print(json.dumps(added))
"""


@linux_only
def test_n_threads_and_threadpool_limits_cap_openmp_team():
    # OMP_NUM_THREADS=4 makes the default team larger than every cap tried.
    result = subprocess.run(
        [sys.executable, "-c", THREAD_COUNT_SCRIPT],
        env=dict(os.environ, OMP_NUM_THREADS="4"),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    added = json.loads(result.stdout)

    # A team of n threads adds n - 1 workers to the process.
    assert added == {"limited": 0, "1": 0, "2": 1, "3": 2, "default": 3}


@linux_only
def test_joblib_workers_do_not_oversubscribe():
    n_jobs = 2
    limit = max(1, joblib.cpu_count() // n_jobs)

    # Defined here so that loky pickles it by value: worker processes cannot
    # import the test module.
    def train(seed):
        import os

        import numpy as np

        import fastmlp
        from fastmlp import _core

        before = set(os.listdir("/proc/self/task"))
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(1024, 256)).astype(np.float32)
        y = rng.integers(0, 10, 1024)
        net = fastmlp.MLP([256, 512, 10], seed=seed)
        net.fit(X, y, epochs=1, batch_size=512)
        added = set(os.listdir("/proc/self/task")) - before
        return _core.max_threads(), len(added), net.forward(X[:5])

    results = joblib.Parallel(n_jobs=n_jobs, backend="loky")(
        joblib.delayed(train)(seed) for seed in range(4)
    )

    for seed, (max_threads, added, outputs) in enumerate(results):
        assert max_threads <= limit
        # Threads the fit started besides the worker's own: at most limit - 1.
        assert added <= limit - 1
        np.testing.assert_array_equal(outputs, train(seed)[2])
