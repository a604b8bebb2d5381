"""Pruning: weight masks, the sparse forward product, MLP.prune, the
estimators' prune and the pruning example.
"""

import inspect
import math
import pickle
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from conftest import make_pair, relative_error
from fastmlp import MLP, MLPClassifier, MLPRegressor, _core, reference
from fastmlp._cli import load_digit_splits
from fastmlp._pruning import PruningReport, remove_least_salient, saliencies


def _random_masks(net, density, seed=0):
    """Return keep-masks that keep about `density` of each layer, drawn at random."""
    rng = np.random.default_rng(seed)
    return [rng.random(W.shape) < density for W in net.weights]


def _trained_digits_net(seed=0, hidden=16, epochs=20):
    """Return a net trained on the digits training split, and the splits."""
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    net = MLP([64, hidden, 10], seed=seed)
    net.fit(X_train, y_train, epochs=epochs, learning_rate=0.1, momentum=0.9)
    return net, X_train, y_train, X_val, y_val


def _misclassification(net, X, y):
    """Return the share of rows whose largest output is not the label."""
    return float(np.mean(net.forward(X).argmax(axis=1) != y))


# Weight masks ---------------------------------------------------------------------


def test_weight_masks_default_all_kept():
    net = MLP([5, 4, 3], seed=0)

    masks = net.weight_masks

    assert [mask.shape for mask in masks] == [(4, 5), (3, 4)]
    assert all(mask.dtype == np.bool_ for mask in masks)
    assert all(mask.all() for mask in masks)
    assert not masks[0].flags.writeable


def test_weight_masks_zero_removed_weights_and_velocities():
    rng = np.random.default_rng(0)
    net = MLP([5, 4, 3], dtype="float64", seed=0)
    net._set("vW", [rng.normal(size=W.shape) for W in net.weights], "velocities")
    masks = _random_masks(net, 0.5)

    net.weight_masks = masks

    for mask, W, vW, read in zip(masks, net.weights, net._get("vW"), net.weight_masks):
        np.testing.assert_array_equal(read, mask)
        assert (W[~mask] == 0).all()
        assert (W[mask] != 0).all()
        assert (vW[~mask] == 0).all()
        assert (vW[mask] != 0).all()


def test_weight_masks_kept_when_weights_are_assigned():
    net = MLP([5, 4, 3], dtype="float64", seed=0)
    masks = _random_masks(net, 0.5)
    net.weight_masks = masks

    net.weights = [np.ones(W.shape) for W in net.weights]

    for mask, W in zip(masks, net.weights):
        np.testing.assert_array_equal(W, mask.astype(np.float64))


def test_weight_masks_all_true_lifts_pruning():
    net = MLP([5, 4, 3], dtype="float64", seed=0)
    net.weight_masks = _random_masks(net, 0.5)

    net.weight_masks = [np.ones(W.shape, dtype=bool) for W in net.weights]
    net.weights = [np.ones(W.shape) for W in net.weights]

    assert all((W == 1).all() for W in net.weights)


def test_weight_masks_reject_bad_input():
    net = MLP([5, 4, 3], seed=0)
    good = [np.ones((4, 5), dtype=bool), np.ones((3, 4), dtype=bool)]

    with pytest.raises(TypeError, match=r"weight_masks\[1\] must be a boolean array"):
        net.weight_masks = [good[0], np.ones((3, 4))]
    with pytest.raises(ValueError, match=r"weight_masks\[0\] must have shape \(4, 5\)"):
        net.weight_masks = [np.ones((5, 4), dtype=bool), good[1]]
    with pytest.raises(ValueError, match="list of 2 arrays, one per layer, got 1"):
        net.weight_masks = good[:1]
    with pytest.raises(TypeError, match="weight_masks must be a list of 2 boolean"):
        net.weight_masks = good[0]


def test_weight_masks_rejected_list_changes_nothing():
    net = MLP([5, 4, 3], seed=0)
    before = net.weights

    with pytest.raises(ValueError, match=r"weight_masks\[1\]"):
        net.weight_masks = [np.zeros((4, 5), dtype=bool), np.zeros((4, 3), dtype=bool)]

    assert all(mask.all() for mask in net.weight_masks)
    for W, W_before in zip(net.weights, before):
        np.testing.assert_array_equal(W, W_before)


# Batch sizes 1 and 5 take the fused update (at most 8 rows), 64 the other.
@pytest.mark.parametrize("batch_size", [1, 5, 64])
@pytest.mark.parametrize("nesterov", [False, True])
def test_pruned_weights_stay_zero_after_fit(batch_size, nesterov):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 6))
    y = rng.integers(0, 3, 100)
    net = MLP([6, 7, 3], dtype="float64", seed=0)
    net.fit(X, y, epochs=2, momentum=0.9, nesterov=nesterov)
    masks = _random_masks(net, 0.4)
    net.weight_masks = masks
    before = net.weights

    net.fit(
        X,
        y,
        epochs=3,
        batch_size=batch_size,
        momentum=0.9,
        nesterov=nesterov,
        l1=1e-3,
        l2=1e-3,
    )

    for mask, W, W_before, vW in zip(masks, net.weights, before, net._get("vW")):
        assert (W[~mask] == 0).all()
        assert (vW[~mask] == 0).all()
        # The kept weights did train.
        assert (W[mask] != W_before[mask]).all()


def test_weight_masks_survive_save_and_load(tmp_path):
    net = MLP([5, 4, 3], seed=0)
    masks = [np.ones((4, 5), dtype=bool), _random_masks(net, 0.5)[1]]
    net.weight_masks = masks
    path = tmp_path / "pruned.npz"

    net.save(path)
    loaded = MLP.load(path)

    for mask, read in zip(masks, loaded.weight_masks):
        np.testing.assert_array_equal(read, mask)
    with np.load(path) as archive:
        # Only the pruned layer stores a mask.
        assert "keep_0" not in archive.files
        assert "keep_1" in archive.files


def test_weight_masks_survive_pickle():
    net = MLP([5, 4, 3], seed=0)
    masks = _random_masks(net, 0.5)
    net.weight_masks = masks

    copy = pickle.loads(pickle.dumps(net))

    for mask, read in zip(masks, copy.weight_masks):
        np.testing.assert_array_equal(read, mask)


# Sparse forward product -----------------------------------------------------------

# As in test_reference_agreement: float64 differs from the reference only in
# the grouping of sums, float32 by rounding over sums of up to 784 terms.
SPARSE_TOLERANCE = {"float64": 1e-10, "float32": 1e-4}
# Rows: one, fewer than a block of 32, whole blocks, blocks plus a tail.
SPARSE_ROWS = [1, 5, 32, 67, 300]
# (sizes): widths of 1, odd widths, and the benchmark's first layer width.
SPARSE_SIZES = [(1, 1), (3, 1, 4), (9, 33, 7, 2), (784, 40, 10)]


@pytest.mark.usefixtures("isa")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("density", [0.0, 0.05, 0.5])
@pytest.mark.parametrize("n", SPARSE_ROWS)
@pytest.mark.parametrize("sizes", SPARSE_SIZES)
def test_sparse_forward_matches_dense(sizes, n, density, dtype):
    # The reference gets the compiled model's parameters float32-rounded when
    # the model is float32, as in test_reference_agreement.
    net, ref = make_pair(
        sizes, "tanh", "softmax" if sizes[-1] > 1 else "logistic", dtype
    )
    net.weight_masks = _random_masks(net, density)
    ref.weights = [W.astype(np.float64) for W in net.weights]
    X = np.random.default_rng(1).normal(size=(n, sizes[0])).astype(dtype)

    sparse = net._core.forward_with_path(X, "sparse", 0)
    dense = net._core.forward_with_path(X, "dense", 0)
    want = ref.forward(X.astype(np.float64))

    assert relative_error(sparse, want) < SPARSE_TOLERANCE[dtype]
    assert relative_error(dense, want) < SPARSE_TOLERANCE[dtype]


# 70 rows take the blocked sparse path, 5 rows the gathering dot products,
# each with its own switch-over density.
@pytest.mark.parametrize(
    ("n", "threshold_key"),
    [(70, "sparse_max_density"), (5, "sparse_max_density_small_batch")],
)
def test_forward_picks_product_by_density(n, threshold_key):
    threshold = _core.kernel_config("float32")[threshold_key]
    net = MLP([784, 64, 10], seed=0)
    X = np.random.default_rng(1).random((n, 784), dtype=np.float32)
    keep = np.random.default_rng(2).permutation(784 * 64)

    def forward_with_first_layer_density(density):
        mask = np.zeros(784 * 64, dtype=bool)
        mask[keep[: int(density * mask.size)]] = True
        net.weight_masks = [mask.reshape(64, 784), np.ones((10, 64), dtype=bool)]
        paths = {p: net._core.forward_with_path(X, p, 0) for p in ("sparse", "dense")}
        return net.forward(X), paths

    auto, paths = forward_with_first_layer_density(threshold / 2)
    # The two products sum in different orders, so their bits differ, and
    # forward's bits tell which one it ran.
    assert not np.array_equal(paths["sparse"], paths["dense"])
    np.testing.assert_array_equal(auto, paths["sparse"])

    auto, paths = forward_with_first_layer_density(min(1.0, threshold * 2))
    np.testing.assert_array_equal(auto, paths["dense"])


def test_sparse_forward_same_bits_for_any_thread_count():
    net = MLP([784, 64, 10], seed=0)
    net.weight_masks = _random_masks(net, 0.05)
    X = np.random.default_rng(1).random((3000, 784), dtype=np.float32)

    one = net._core.forward_with_path(X, "sparse", 1)
    two = net._core.forward_with_path(X, "sparse", 2)

    np.testing.assert_array_equal(one, two)


def test_weight_masks_change_during_concurrent_forward():
    # forward releases the GIL, so another thread may set masks meanwhile. The
    # kept-weight lists that forward loaded must stay alive until it returns.
    net = MLP([784, 64, 10], seed=0)
    # An all-True mask frees the lists, the sparse one builds new ones.
    mask_sets = [_random_masks(net, 1.1), _random_masks(net, 0.05)]
    X = np.random.default_rng(1).random((2000, 784), dtype=np.float32)
    outputs, errors = [], []

    def predict():
        try:
            for _ in range(30):
                outputs.append(net.forward(X))
        except Exception as error:  # reported by the asserts below
            errors.append(error)

    thread = threading.Thread(target=predict)
    thread.start()
    changes = 0
    while thread.is_alive():
        net.weight_masks = mask_sets[changes % 2]
        changes += 1
    thread.join()

    assert errors == []
    assert changes > 0
    assert len(outputs) == 30
    assert all(np.isfinite(output).all() for output in outputs)


def test_forward_with_path_rejects_unknown_path():
    net = MLP([3, 2], seed=0)

    with pytest.raises(
        ValueError, match="path must be one of 'auto', 'dense', 'sparse'"
    ):
        net._core.forward_with_path(np.zeros((1, 3), dtype=np.float32), "csr", 0)


def test_sparse_bench_builds_its_table(monkeypatch):
    # Only that the benchmark runs and fills its columns: no timing is checked.
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parent.parent / "bench"))
    import sparse

    rows = sparse.benchmark_densities((0.05,), 1, repeats=1, target_seconds=0.001)

    assert len(rows) == 1
    assert len(rows[0]) == len(sparse.COLUMNS)
    assert rows[0][sparse.COLUMNS.index("forward picks")] == "sparse"
    # Both products against the float64 reference, in float32.
    assert float(rows[0][sparse.COLUMNS.index("max abs diff sparse")]) < 1e-5


# Saliencies -------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["softmax", "logistic", "identity"])
def test_obd_saliency_matches_reference(output):
    sizes = (6, 9, 4)
    net, ref = make_pair(sizes, "tanh", output, "float64")
    X = np.random.default_rng(3).normal(size=(40, 6))

    got = saliencies(net, "obd", X)
    want = reference.obd_saliency(ref.weights, ref.hessian_diagonal(X))

    for s, s_ref in zip(got, want):
        # Both are float64 with the same parameters: only summation order differs.
        assert relative_error(s, s_ref) < 1e-10


def test_remove_least_salient_ranks_globally_among_kept():
    masks = [np.array([[True, True], [False, True]]), np.array([[True, True, True]])]
    scores = [np.array([[0.5, 0.1], [0.0, 0.9]]), np.array([[0.2, 0.05, 0.7]])]

    new = remove_least_salient(masks, scores, 2)

    # 0.05 and 0.1 go; the removed weight with score 0.0 is not counted again.
    np.testing.assert_array_equal(new[0], [[True, False], [False, True]])
    np.testing.assert_array_equal(new[1], [[True, False, True]])
    np.testing.assert_array_equal(masks[0], [[True, True], [False, True]])


# MLP.prune -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["obd", "magnitude"])
@pytest.mark.parametrize("tolerance", [0.0, 0.02])
def test_prune_respects_tolerance(method, tolerance):
    net, X_train, y_train, X_val, y_val = _trained_digits_net()
    error_before = _misclassification(net, X_val, y_val)

    report = net.prune(
        X_val,
        y_val,
        method=method,
        tolerance=tolerance,
        step=0.1,
        X_train=X_train,
        Y_train=y_train,
    )

    assert report.error_before == error_before
    assert all(error <= error_before + tolerance for error in report.errors)
    # The step that broke the tolerance was undone.
    assert report.rejected_error > error_before + tolerance
    assert _misclassification(net, X_val, y_val) == report.error
    assert report.removed_count > 0


def test_prune_magnitude_removes_smallest_weights():
    net, _, _, X_val, y_val = _trained_digits_net()
    before = [np.abs(W) for W in net.weights]

    report = net.prune(X_val, y_val, method="magnitude", tolerance=0.05, step=0.1)

    removed = np.concatenate([b[~m] for b, m in zip(before, net.weight_masks)])
    kept = np.concatenate([b[m] for b, m in zip(before, net.weight_masks)])
    assert removed.size == report.removed_count
    assert 0 < removed.size < removed.size + kept.size
    assert removed.max() <= kept.min()


def test_prune_obd_follows_reference_saliencies():
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    X_train = X_train.astype(np.float64)
    # float64, so that the core and the reference rank the weights alike.
    net = MLP([64, 16, 10], dtype="float64", seed=0)
    net.fit(X_train, y_train, epochs=20, learning_rate=0.1, momentum=0.9)
    replay = pickle.loads(pickle.dumps(net))

    report = net.prune(
        X_val, y_val, tolerance=0.03, step=0.2, X_train=X_train, Y_train=y_train
    )

    # Each step ranks the kept weights by the saliency of the network that the
    # previous step left, computed on the training data.
    masks, removed = replay.weight_masks, 0
    for count in report.removed_counts:
        H = reference.hessian_diagonal(
            X_train, replay.weights, replay.biases, "relu", "softmax"
        )
        scores = reference.obd_saliency(replay.weights, H)
        masks = remove_least_salient(masks, scores, count - removed)
        replay.weight_masks = masks
        removed = count
    assert len(report.removed_counts) >= 2
    for mask, replayed in zip(net.weight_masks, masks):
        np.testing.assert_array_equal(mask, replayed)


def test_prune_report_is_consistent():
    net, X_train, y_train, X_val, y_val = _trained_digits_net()
    n_weights = sum(W.size for W in net.weights)

    report = net.prune(
        X_val, y_val, tolerance=0.03, step=0.2, X_train=X_train, Y_train=y_train
    )

    assert isinstance(report, PruningReport)
    assert report.method == "obd"
    assert report.n_weights == n_weights
    assert report.removed_before == 0
    assert len(report.removed_counts) == len(report.errors) >= 1
    assert len(report.removed_fractions) == len(report.errors)
    remaining = n_weights
    for count, fraction in zip(report.removed_counts, report.removed_fractions):
        remaining -= math.ceil(0.2 * remaining)
        assert count == n_weights - remaining
        assert fraction == count / n_weights
    removed_in_net = sum(int((~mask).sum()) for mask in net.weight_masks)
    assert report.removed_count == removed_in_net
    assert report.removed_fraction == removed_in_net / n_weights
    assert report.error == report.errors[-1]


def test_prune_counts_weights_removed_before():
    net, _, _, X_val, y_val = _trained_digits_net()
    first = net.prune(X_val, y_val, method="magnitude", tolerance=0.02, step=0.2)

    second = net.prune(X_val, y_val, method="magnitude", tolerance=1.0, step=0.5)

    assert second.removed_before == first.removed_count
    assert second.removed_counts[0] > first.removed_count
    # With tolerance 1 pruning only ends when no weight is left.
    assert second.removed_count == second.n_weights
    assert second.rejected_error is None


def test_prune_with_retraining_keeps_weights_zero():
    net, X_train, y_train, X_val, y_val = _trained_digits_net()

    report = net.prune(
        X_val,
        y_val,
        method="magnitude",
        tolerance=0.01,
        step=0.3,
        X_train=X_train,
        Y_train=y_train,
        retrain_epochs=2,
        learning_rate=0.05,
        momentum=0.9,
    )

    assert len(report.errors) >= 2
    for mask, W in zip(net.weight_masks, net.weights):
        assert (W[~mask] == 0).all()
    assert _misclassification(net, X_val, y_val) == report.error


def test_prune_regression_watches_the_loss():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    Y = np.column_stack([X @ rng.normal(size=5), X[:, 0] - X[:, 1]])
    net = MLP([5, 8, 2], activation="tanh", output="identity", dtype="float64", seed=0)
    net.fit(X, Y, epochs=30, learning_rate=0.05)
    loss_before = 0.5 * np.mean(((Y - net.forward(X)) ** 2).sum(axis=1))

    report = net.prune(X, Y, tolerance=0.05, step=0.1)

    assert report.error_before == pytest.approx(loss_before, rel=1e-12)
    assert all(error <= loss_before + 0.05 for error in report.errors)
    assert report.rejected_error > loss_before + 0.05


def test_prune_logistic_error_is_subset_misclassification():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0]).astype(float)
    net = MLP([4, 6, 2], activation="tanh", output="logistic", dtype="float64", seed=0)
    net.fit(X, Y, epochs=20, learning_rate=0.5)
    wrong = ((net.forward(X) > 0.5) != (Y > 0.5)).any(axis=1)

    report = net.prune(X, Y, tolerance=0.0, step=0.1)

    assert report.error_before == wrong.mean()


def test_prune_rejects_bad_arguments():
    net, X_train, y_train, X_val, y_val = _trained_digits_net(epochs=1)
    weights = net.weights
    cases = [
        (ValueError, "method must be one of 'obd', 'magnitude'", {"method": "l1"}),
        (ValueError, r"tolerance must be in \[0.0, inf\)", {"tolerance": -0.1}),
        (ValueError, r"step must be in \(0.0, 1.0\]", {"step": 0.0}),
        (ValueError, r"step must be in \(0.0, 1.0\]", {"step": 1.5}),
        (ValueError, "retrain_epochs must be an integer >= 0", {"retrain_epochs": -1}),
        (TypeError, "retrain_epochs must be an integer", {"retrain_epochs": 1.5}),
        (ValueError, "X_train is given but Y_train is None", {"X_train": X_train}),
        (ValueError, "retrain_epochs=2 needs training data", {"retrain_epochs": 2}),
        (
            ValueError,
            "pass the epochs of retraining between steps as retrain_epochs",
            {"epochs": 3},
        ),
        (
            TypeError,
            r"unexpected keyword arguments \['learning_rate_init'\]",
            {"learning_rate_init": 0.1},
        ),
        (
            ValueError,
            r"fit options \['momentum'\] only apply to retraining",
            {"momentum": 0.9},
        ),
        (
            ValueError,
            r"learning_rate must be in \(0.0, inf\)",
            {
                "X_train": X_train,
                "Y_train": y_train,
                "retrain_epochs": 1,
                "learning_rate": -1.0,
            },
        ),
        (
            TypeError,
            "callback must be callable",
            {
                "X_train": X_train,
                "Y_train": y_train,
                "retrain_epochs": 1,
                "callback": 3,
            },
        ),
    ]
    for error, message, arguments in cases:
        with pytest.raises(error, match=message):
            net.prune(X_val, y_val, **arguments)

    with pytest.raises(ValueError, match="X_val and Y_val must have the same number"):
        net.prune(X_val, y_val[:-1])
    with pytest.raises(ValueError, match="X_val has 63 features"):
        net.prune(X_val[:, :63], y_val)
    X_bad = X_train.copy()
    X_bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="X_train must contain only finite values"):
        net.prune(X_val, y_val, X_train=X_bad, Y_train=y_train, retrain_epochs=1)
    with pytest.raises(ValueError, match="X_train and Y_train must have the same"):
        net.prune(X_val, y_val, X_train=X_train, Y_train=y_train[:-1], retrain_epochs=1)

    assert all(mask.all() for mask in net.weight_masks)
    for W, W_before in zip(net.weights, weights):
        np.testing.assert_array_equal(W, W_before)


def test_prune_restores_step_when_retraining_fails():
    net, X_train, y_train, X_val, y_val = _trained_digits_net()
    weights, epoch = net.weights, net.epoch

    def fail(epoch, loss):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        net.prune(
            X_val,
            y_val,
            X_train=X_train,
            Y_train=y_train,
            retrain_epochs=1,
            callback=fail,
        )

    assert all(mask.all() for mask in net.weight_masks)
    assert net.epoch == epoch
    for W, W_before in zip(net.weights, weights):
        np.testing.assert_array_equal(W, W_before)


# Estimators -----------------------------------------------------------------------


def test_classifier_prune_maps_labels_and_updates_coefs():
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    names = np.array([f"digit {d}" for d in range(10)])
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.1,
        max_iter=15,
        random_state=0,
    )
    # A fixed number of epochs: stopping on the loss is not under test.
    clf.set_params(n_iter_no_change=np.inf)
    with pytest.warns(Warning, match="max_iter"):
        clf.fit(X_train, names[y_train])
    accuracy_before = clf.score(X_val, names[y_val])

    report = clf.prune(
        X_val, names[y_val], method="magnitude", tolerance=0.02, step=0.2
    )

    zeros = sum(int((coef == 0).sum()) for coef in clf.coefs_)
    assert report.removed_count > 0
    assert zeros == report.removed_count
    assert clf.score(X_val, names[y_val]) == pytest.approx(1 - report.error)
    assert clf.score(X_val, names[y_val]) >= accuracy_before - 0.02
    assert clf.predict(X_val[:3]).dtype == names.dtype


def test_classifier_prune_accepts_validation_without_a_class():
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    clf = MLPClassifier(
        hidden_layer_sizes=(16,),
        learning_rate_init=0.1,
        max_iter=10,
        random_state=0,
        warm_start=True,
    )
    clf.set_params(n_iter_no_change=np.inf)
    with pytest.warns(Warning, match="max_iter"):
        clf.fit(X_train, y_train)
    no_nines = y_val != 9

    report = clf.prune(X_val[no_nines], y_val[no_nines], tolerance=0.02, step=0.2)

    assert report.removed_count > 0
    assert clf.score(X_val[no_nines], y_val[no_nines]) == pytest.approx(
        1 - report.error
    )
    with pytest.raises(ValueError, match="not among the classes"):
        clf.prune(X_val, np.where(y_val == 9, 10, y_val))


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_estimator_prune_signature_matches_mlp(estimator):
    # The estimators' prune repeats MLP.prune's defaults, naming targets y.
    fast = inspect.signature(MLP.prune).parameters
    wrapper = inspect.signature(estimator.prune).parameters
    renamed = {"y_val": "Y_val", "y_train": "Y_train"}

    assert [renamed.get(name, name) for name in wrapper] == list(fast)
    for name, parameter in wrapper.items():
        assert parameter.default == fast[renamed.get(name, name)].default, name
        assert parameter.kind == fast[renamed.get(name, name)].kind, name


def test_estimator_prune_rejects_wrong_feature_count():
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    reg = MLPRegressor(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with pytest.warns(Warning, match="max_iter"):
        reg.fit(X_train, y_train.astype(float))

    with pytest.raises(ValueError, match="X has 63 features"):
        reg.prune(X_val[:, :63], y_val.astype(float))


def test_classifier_partial_fit_keeps_pruned_weights_zero():
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    binary_train, binary_val = y_train % 2, y_val % 2
    clf = MLPClassifier(
        hidden_layer_sizes=(8,), learning_rate_init=0.1, max_iter=5, random_state=0
    )
    clf.set_params(n_iter_no_change=np.inf)
    with pytest.warns(Warning, match="max_iter"):
        clf.fit(X_train, binary_train)
    clf.prune(
        X_val,
        binary_val,
        tolerance=0.05,
        step=0.2,
        X_train=X_train,
        y_train=binary_train,
        retrain_epochs=1,
    )
    removed = [coef == 0 for coef in clf.coefs_]

    clf.partial_fit(X_train, binary_train)

    for coef, was_removed in zip(clf.coefs_, removed):
        assert (coef[was_removed] == 0).all()


def test_regressor_prune_updates_coefs():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = X @ rng.normal(size=5)
    reg = MLPRegressor(
        hidden_layer_sizes=(8,), learning_rate_init=0.01, max_iter=30, random_state=0
    )
    reg.set_params(n_iter_no_change=np.inf)
    with pytest.warns(Warning, match="max_iter"):
        reg.fit(X, y)

    report = reg.prune(X, y, tolerance=0.05, step=0.1)

    zeros = sum(int((coef == 0).sum()) for coef in reg.coefs_)
    assert zeros == report.removed_count > 0
    loss = 0.5 * np.mean((y - reg.predict(X)) ** 2)
    assert loss == pytest.approx(report.error, rel=1e-5)


def test_estimator_prune_rejects_unpaired_training_data():
    X_train, y_train, X_val, y_val, _, _ = load_digit_splits()
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    with pytest.warns(Warning, match="max_iter"):
        clf.fit(X_train, y_train)
    coefs = [coef.copy() for coef in clf.coefs_]

    with pytest.raises(ValueError, match="prune got y_train alone"):
        clf.prune(X_val, y_val, y_train=y_train)
    with pytest.raises(ValueError, match="method must be one of"):
        clf.prune(X_val, y_val, method="random")

    for coef, before in zip(clf.coefs_, coefs):
        np.testing.assert_array_equal(coef, before)


# Example ----------------------------------------------------------------------


def test_prune_example_quick_run(tmp_path):
    output = tmp_path / "prune.png"

    result = subprocess.run(
        [sys.executable, "-m", "fastmlp", "prune", "--quick", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert output.read_bytes().startswith(b"\x89PNG")
    summary = re.search(
        r"90% removed: validation accuracy obd (\d\.\d+), magnitude (\d\.\d+)",
        result.stdout,
    )
    assert summary is not None, result.stdout
    obd, magnitude = float(summary.group(1)), float(summary.group(2))
    # Without retraining, OBD kept 0.890 against magnitude's 0.845 at 90%
    # removed. The margin covers rounding that differs between kernel builds.
    assert obd >= magnitude - 0.02


def test_prune_example_launcher_help():
    launcher = Path(__file__).resolve().parent.parent / "examples" / "prune.py"

    result = subprocess.run(
        [sys.executable, str(launcher), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "--output PATH" in result.stdout
    assert "--quick" in result.stdout
