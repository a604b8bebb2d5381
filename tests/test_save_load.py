"""Saving and loading: bit-identical models, every setting, the format version,
and damaged files that load as an error, never as a different model."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from fastmlp import MLP, MLPClassifier, MLPRegressor
from fastmlp._mlp import SAVE_FORMAT_VERSION

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]
OUTPUTS = ["softmax", "logistic", "identity"]

# Arrays stored for every model, besides one W, b, vW and vb per layer.
SETTING_KEYS = {
    "format_version",
    "sizes",
    "activation",
    "output",
    "dtype",
    "seed",
    "n_threads",
    "epoch",
}


def _data(n_in, n_out, output, dtype, n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_in)).astype(dtype)
    if output == "softmax":
        Y = np.eye(n_out)[rng.integers(0, n_out, n)]
    elif output == "logistic":
        Y = rng.integers(0, 2, (n, n_out)).astype(float)
    else:
        Y = rng.normal(size=(n, n_out))
    return X, Y


def _trained(sizes, activation, output, dtype, **settings):
    """Return a model trained two epochs with momentum and dropout, and its data."""
    net = MLP(sizes, activation=activation, output=output, dtype=dtype, **settings)
    X, Y = _data(sizes[0], sizes[-1], output, dtype)
    net.fit(X, Y, epochs=2, batch_size=16, momentum=0.9, dropout=0.2, l2=1e-3)
    return net, X, Y


def _model_arrays(net):
    """Return every array that makes up a model, keyed as in the saved file."""
    return net._state()


def _assert_same_model(first, second):
    a, b = _model_arrays(first), _model_arrays(second)
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def _continue(net, X, Y):
    """Train one more epoch; return the history and every parameter after it."""
    history = net.fit(X, Y, epochs=1, batch_size=16, momentum=0.9, dropout=0.2)
    return history, [*net.weights, *net.biases]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(5, 3), (5, 17, 9, 3)], ids=str)
def test_loaded_model_predicts_and_trains_bit_identically(
    tmp_path, sizes, activation, output, dtype
):
    net, X, Y = _trained(list(sizes), activation, output, dtype, seed=11)
    path = tmp_path / "model.npz"
    net.save(path)

    loaded = MLP.load(path)

    _assert_same_model(net, loaded)
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))
    loss, dW, db = loaded.gradients(X, Y)
    expected_loss, expected_dW, expected_db = net.gradients(X, Y)
    assert loss == expected_loss
    for got, expected in zip([*dW, *db], [*expected_dW, *expected_db]):
        np.testing.assert_array_equal(got, expected)
    # Velocities, epoch counter and seed came back too: training goes on alike.
    history, parameters = _continue(loaded, X, Y)
    expected_history, expected_parameters = _continue(net, X, Y)
    assert history == expected_history
    for got, expected in zip(parameters, expected_parameters):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    "settings",
    [
        dict(seed=0, n_threads=None),
        dict(seed=2**64 - 1, n_threads=3),
        dict(seed=12345, n_threads=1),
    ],
    ids=["seed-0", "seed-max", "one-thread"],
)
def test_load_restores_every_setting(tmp_path, settings):
    net, _, _ = _trained([4, 6, 2], "tanh", "logistic", "float64", **settings)
    path = tmp_path / "model.npz"
    net.save(path)

    loaded = MLP.load(str(path))

    for name in ("sizes", "activation", "output", "dtype", "seed", "n_threads"):
        assert getattr(loaded, name) == getattr(net, name), name
    assert loaded.epoch == net.epoch == 2
    assert repr(loaded) == repr(net)


def test_saved_file_contains_version_settings_and_every_layer(tmp_path):
    net, _, _ = _trained([4, 6, 5, 2], "relu", "softmax", "float32", seed=0)
    path = tmp_path / "model.npz"
    net.save(path)

    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        version = int(data["format_version"])
        weight_dtype = data["W_0"].dtype

    layers = {f"{which}_{l}" for which in ("W", "b", "vW", "vb") for l in range(3)}
    # The step count of Adam is saved even for a model that never ran Adam.
    assert keys == SETTING_KEYS | layers | {"adam_step"}
    assert version == SAVE_FORMAT_VERSION == 2
    assert weight_dtype == np.float32


def _rewrite(path, **changes):
    """Rewrite a saved model with some of its arrays replaced."""
    with np.load(path, allow_pickle=False) as data:
        state = dict(data)
    state.update(changes)
    with open(path, "wb") as file:
        np.savez(file, **state)


@pytest.mark.parametrize("version", [0, 3, 99])
def test_load_rejects_other_format_versions(tmp_path, version):
    path = tmp_path / "model.npz"
    MLP([4, 3, 2], seed=0).save(path)
    _rewrite(path, format_version=np.array(version))

    with pytest.raises(
        ValueError,
        match=rf"has format version {version}; this fastmlp reads versions 1, 2$",
    ):
        MLP.load(path)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        (dict(W_1=np.zeros((3, 3))), r"weights\[1\] must have shape \(2, 3\)"),
        (dict(vb_0=np.zeros(4)), r"bias_velocities\[0\] must have shape \(3,\)"),
        (dict(sizes=np.array([4, 5, 2])), r"weights\[0\] must have shape \(5, 4\)"),
        (dict(activation=np.array("softplus")), "activation must be one of"),
        (dict(output=np.array("sigmoid")), "output must be one of"),
        (dict(dtype=np.array("int32")), "dtype must be 'float32' or 'float64'"),
        (dict(n_threads=np.array(0)), "n_threads must be an integer >= 1"),
        (dict(W_0=np.full((3, 4), "x")), r"weights\[0\] must hold real numbers"),
        (dict(b_1=np.array([0.0, np.inf])), r"biases\[1\] must contain only finite"),
    ],
    ids=[
        "weight-shape",
        "velocity-shape",
        "sizes",
        "activation",
        "output",
        "dtype",
        "n_threads",
        "weight-strings",
        "bias-inf",
    ],
)
def test_load_rejects_inconsistent_contents(tmp_path, changes, match):
    path = tmp_path / "model.npz"
    MLP([4, 3, 2], seed=0).save(path)
    _rewrite(path, **changes)

    with pytest.raises(ValueError, match="is not a valid fastmlp model: " + match):
        MLP.load(path)


@pytest.mark.parametrize("missing", ["epoch", "vW_1", "b_0", "format_version"])
def test_load_names_missing_array(tmp_path, missing):
    path = tmp_path / "model.npz"
    MLP([4, 3, 2], seed=0).save(path)
    with np.load(path, allow_pickle=False) as data:
        state = {key: data[key] for key in data.files if key != missing}
    with open(path, "wb") as file:
        np.savez(file, **state)

    with pytest.raises(ValueError, match=f"is not a fastmlp model: '{missing}'"):
        MLP.load(path)


@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory):
    """Return the bytes of a saved model and the model itself."""
    net, _, _ = _trained([4, 3, 2], "tanh", "softmax", "float32", seed=0)
    path = tmp_path_factory.mktemp("saved") / "model.npz"
    net.save(path)
    return path.read_bytes(), net


def _central_directory_fields(data):
    """Return offsets of the version, flags and compression fields of each entry
    of the zip central directory (bytes 6 to 11 after each header signature)."""
    offsets = set()
    start = data.find(b"PK\x01\x02")
    while start >= 0:
        offsets.update(range(start + 6, start + 12))
        start = data.find(b"PK\x01\x02", start + 1)
    return offsets


def test_load_rejects_every_truncation(tmp_path, saved_bytes):
    data, _ = saved_bytes
    path = tmp_path / "truncated.npz"

    for length in range(0, len(data), 7):
        path.write_bytes(data[:length])
        with pytest.raises(ValueError, match="fastmlp model"):
            MLP.load(path)


def test_corrupted_byte_raises_or_changes_nothing(tmp_path, saved_bytes):
    # Every fifth byte is flipped in turn: headers, array data and the zip
    # directory. The CRC of each array catches changed data. A byte that no
    # reader checks, such as a time stamp, must leave the model as it was.
    data, net = saved_bytes
    path = tmp_path / "corrupted.npz"
    skipped = _central_directory_fields(data)
    loaded_unchanged = 0

    for offset in range(0, len(data), 5):
        if offset in skipped:
            continue
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            loaded = MLP.load(path)
        except ValueError:
            continue
        _assert_same_model(loaded, net)
        loaded_unchanged += 1

    # Some bytes (time stamps, attributes) are not checked by any reader.
    assert 0 < loaded_unchanged < len(data) // 5 // 2


def test_corrupted_zip_directory_fields_raise_value_error(tmp_path, saved_bytes):
    data, _ = saved_bytes
    path = tmp_path / "corrupted.npz"

    for offset in sorted(_central_directory_fields(data)):
        damaged = bytearray(data)
        damaged[offset] ^= 0xFF
        path.write_bytes(bytes(damaged))
        try:
            MLP.load(path)
        except ValueError:
            pass


def test_save_overwrites_existing_file(tmp_path):
    path = tmp_path / "model.npz"
    MLP([4, 3, 2], seed=0).save(path)
    second = MLP([4, 5, 1], output="logistic", seed=1)

    second.save(path)

    _assert_same_model(MLP.load(path), second)


def _fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_estimator_round_trip_predicts_and_trains_alike(tmp_path, kind, dump):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    settings = dict(hidden_layer_sizes=(7,), max_iter=3, warm_start=True)
    if kind == "classifier":
        estimator, y = MLPClassifier(**settings, dropout=0.1), np.arange(60) % 3
    else:
        estimator, y = MLPRegressor(**settings, dropout=0.1), X[:, 0] - X[:, 1]
    _fit_quietly(estimator, X, y)

    if dump == "pickle":
        restored = pickle.loads(pickle.dumps(estimator))
    else:
        joblib.dump(estimator, tmp_path / "estimator.joblib")
        restored = joblib.load(tmp_path / "estimator.joblib")

    np.testing.assert_array_equal(restored.predict(X), estimator.predict(X))
    if kind == "classifier":
        np.testing.assert_array_equal(
            restored.predict_proba(X), estimator.predict_proba(X)
        )
    # A warm-start fit continues from the same weights in both.
    for model in (estimator, restored):
        model.set_params(random_state=3)
        _fit_quietly(model, X, y)
    for got, expected in zip(restored.coefs_, estimator.coefs_):
        np.testing.assert_array_equal(got, expected)
    assert restored.loss_curve_ == estimator.loss_curve_


def test_failed_save_keeps_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    first = MLP([4, 3, 2], seed=0)
    first.save(path)
    saved = path.read_bytes()

    def fail_halfway(file, **arrays):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        MLP([4, 5, 2], seed=1).save(path)

    assert path.read_bytes() == saved
    assert [entry.name for entry in tmp_path.iterdir()] == ["model.npz"]
