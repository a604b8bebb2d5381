"""fastmlp.MLP with several threads and processes: fork, concurrent fit, predict."""

import multiprocessing
import threading

import numpy as np
import pytest

import fastmlp


def _problem(seed=0, n=3000, n_in=200, n_out=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in)).astype(np.float32)
    y = rng.integers(0, n_out, n)
    return X, y


def _train_and_predict(queue):
    """Child process body: train a new model and predict with it."""
    X, y = _problem(seed=1)
    net = fastmlp.MLP([200, 512, 5], seed=0)
    net.fit(X, y, epochs=2, batch_size=512)
    queue.put(net.forward(X[:2000]).shape)


# Python 3.12 and later warn when a process with threads forks, and the OpenMP
# workers count. Forking after training is what this test checks.
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded:DeprecationWarning"
)
def test_forked_child_trains_and_predicts():
    # The parent runs parallel regions first: GNU OpenMP's thread pool does not
    # survive fork(), and a child that used it would wait forever.
    X, y = _problem()
    net = fastmlp.MLP([200, 512, 5], seed=0, n_threads=2)
    net.fit(X, y, epochs=2, batch_size=512)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_train_and_predict, args=(queue,))
    child.start()
    child.join(60)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "the forked child did not finish within 60 s"
    assert child.exitcode == 0
    assert queue.get(timeout=5) == (2000, 5)


def test_fit_from_second_thread_rejected():
    X, y = _problem(n=20000, n_in=100, n_out=10)
    net = fastmlp.MLP([100, 256, 10], seed=0)
    started = threading.Event()
    errors = []

    def long_fit():
        started.set()
        net.fit(X, y, epochs=30, batch_size=64)

    trainer = threading.Thread(target=long_fit)
    trainer.start()
    started.wait()
    # Give the first fit time to enter the core and release the GIL.
    trainer.join(0.2)
    for call in (
        lambda: net.fit(X, y, epochs=1),
        lambda: net.forward(X[:5]),
        lambda: net.weights,
    ):
        try:
            call()
        except RuntimeError as error:
            errors.append(str(error))
    trainer.join()
    assert trainer.is_alive() is False
    assert len(errors) == 3, "calls from another thread during fit were not rejected"
    assert "already running on this model in another thread" in errors[0]
    assert "while fit runs on it in another thread" in errors[1]
    # Once fit has returned, the model is usable from any thread again.
    assert net.forward(X[:5]).shape == (5, 10)


def test_fit_rejected_while_forward_runs_in_another_thread():
    # About 190 GFLOP: well over 50 ms below 3 TFLOP/s (2 cores: about 0.4 s).
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 256)).astype(np.float32)
    net = fastmlp.MLP([256, 2048, 2048, 10], seed=0)
    # forward works in chunks of 2048 rows, so these are the first chunk's bits.
    expected = net.forward(X[:2048])
    started = threading.Event()
    outputs = []

    def long_forward():
        started.set()
        outputs.append(net.forward(X))

    reader = threading.Thread(target=long_forward)
    reader.start()
    started.wait()
    # Give forward time to enter the core and release the GIL.
    reader.join(0.05)
    with pytest.raises(RuntimeError, match="cannot start fit while forward"):
        net.fit(X[:1], [0], epochs=1, batch_size=1, learning_rate=1.0)
    reader.join()

    # The forward pass saw the weights it started with, and fit runs afterwards.
    np.testing.assert_array_equal(outputs[0][:2048], expected)
    net.fit(X[:1], [0], epochs=1, batch_size=1)


def test_fit_from_own_callback_rejected():
    X, y = _problem(n=50, n_in=4, n_out=3)
    net = fastmlp.MLP([4, 5, 3], seed=0)

    def fit_again(epoch, loss):
        net.fit(X, y, epochs=1)

    with pytest.raises(RuntimeError, match="from its own fit's callback"):
        net.fit(X, y, epochs=2, callback=fit_again)
    # The failed inner call left the model usable.
    assert len(net.fit(X, y, epochs=1)) == 1


def test_callback_may_read_the_model_during_fit():
    X, y = _problem(n=500, n_in=20, n_out=3)
    net = fastmlp.MLP([20, 16, 3], seed=0)
    seen = []

    def callback(epoch, loss):
        seen.append((net.forward(X[:4]).shape, net.weights[0].shape))

    net.fit(X, y, epochs=3, callback=callback)
    assert seen == [((4, 3), (16, 20))] * 3


def test_concurrent_forward_matches_serial():
    X, y = _problem(n=4000, n_in=64, n_out=10)
    net = fastmlp.MLP([64, 128, 10], seed=0)
    net.fit(X, y, epochs=1)
    expected = net.forward(X)
    results = [None] * 4

    def predict(i):
        results[i] = net.forward(X)

    threads = [threading.Thread(target=predict, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_divergence_restores_the_epoch_start(momentum):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 8)).astype(np.float32)
    Y = X[:, :1] * 1e30  # targets so large that the first update overflows
    net = fastmlp.MLP([8, 16, 1], activation="tanh", output="identity", seed=0)
    net.fit(X, X[:, :1], epochs=2, learning_rate=0.01, momentum=momentum)
    before = [W.copy() for W in net.weights] + [b.copy() for b in net.biases]
    epoch = net.epoch
    with pytest.raises(
        RuntimeError, match="training diverged .* the model was restored"
    ):
        net.fit(X, Y, epochs=3, learning_rate=0.01, momentum=momentum)
    after = [W.copy() for W in net.weights] + [b.copy() for b in net.biases]
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)
    assert net.epoch == epoch
    assert np.isfinite(net.forward(X)).all()
