"""Behaviour of MLPClassifier and MLPRegressor, checked against scikit-learn."""

import functools
import inspect
import pickle
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from fastmlp import MLP, MLPClassifier, MLPRegressor


@functools.cache
def load_scaled(name):
    """Return (X, y) of a bundled scikit-learn data set with scaled features.

    Digits pixels are divided by their maximum, 16; other data sets are
    standardised (standardising digits would blow up pixels that are almost
    always 0). The diabetes target is standardised too.
    """
    loaders = {
        "iris": load_iris,
        "digits": load_digits,
        "breast_cancer": load_breast_cancer,
        "diabetes": load_diabetes,
    }
    X, y = loaders[name](return_X_y=True)
    if name == "digits":
        X = X / 16.0
    else:
        X = StandardScaler().fit_transform(X)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    return X, y


def fit_from_same_weights(ours, theirs, X, y, epochs):
    """Fit both estimators for `epochs` epochs starting from the same weights.

    A one-epoch fit creates the fitted attributes; then both get the same
    random weights and continue with warm_start, so any difference comes from
    the training step itself. Only ``loss_curve_[1:]`` covers the common run.
    """
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours.set_params(max_iter=1).fit(X, y)
        theirs.set_params(max_iter=1).fit(X, y)
        coefs = [rng.uniform(-0.3, 0.3, coef.shape) for coef in theirs.coefs_]
        intercepts = [rng.uniform(-0.3, 0.3, b.shape) for b in theirs.intercepts_]
        for model in (ours, theirs):
            model.coefs_ = [coef.copy() for coef in coefs]
            model.intercepts_ = [b.copy() for b in intercepts]
            model.set_params(warm_start=True, max_iter=epochs).fit(X, y)


SGD_SETTINGS = {
    "solver": "sgd",
    "batch_size": 32,
    "alpha": 1e-3,
    "learning_rate_init": 0.05,
    "shuffle": False,
    "n_iter_no_change": 100,
}


@pytest.mark.parametrize(
    ("target", "settings"),
    [
        ("multiclass", {"hidden_layer_sizes": (7, 5), "activation": "tanh"}),
        ("multiclass", {"hidden_layer_sizes": (6,), "nesterovs_momentum": False}),
        ("binary", {"hidden_layer_sizes": (4,), "activation": "logistic"}),
        ("multilabel", {"hidden_layer_sizes": (5,), "momentum": 0.0}),
    ],
)
def test_classifier_training_matches_sklearn_sgd(target, settings):
    X, y = load_scaled("iris")
    if target == "binary":
        y = y == 1
    elif target == "multilabel":
        y = np.column_stack([y == 0, y == 2, X[:, 0] > 0]).astype(int)
    ours = MLPClassifier(**SGD_SETTINGS, **settings)
    theirs = neural_network.MLPClassifier(**SGD_SETTINGS, **settings)

    fit_from_same_weights(ours, theirs, X, y, epochs=15)

    # float64 on both sides, the same operations summed in another order: the
    # differences stay at rounding level over 15 epochs.
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-9)
    for coef, expected in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(coef, expected, rtol=1e-9, atol=1e-12)
    assert ours.t_ == theirs.t_
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize(
    ("alpha", "one_batch"), [(0.1, True), (0.0, False), (0.1, False)]
)
def test_regressor_multi_output_loss_matches_sklearn(alpha, one_batch):
    X, y = load_scaled("diabetes")
    Y = np.column_stack([y, y**2, -y])
    settings = {**SGD_SETTINGS, "hidden_layer_sizes": (8,), "alpha": alpha}
    if one_batch:
        settings["batch_size"] = len(X)
    ours = MLPRegressor(**settings)
    theirs = neural_network.MLPRegressor(**settings)

    fit_from_same_weights(ours, theirs, X, Y, epochs=10)

    # The reported loss averages the squared error over the 3 outputs but not
    # the penalty; the core reports the penalty part of each epoch separately,
    # so the losses agree to rounding level with any number of batches.
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)


def small_classifier(**settings):
    """Return a small MLPClassifier trained by SGD in milliseconds."""
    defaults = {
        "solver": "sgd",
        "hidden_layer_sizes": (8,),
        "batch_size": 16,
        "learning_rate_init": 0.1,
        "max_iter": 30,
        "n_iter_no_change": 30,
        "random_state": 0,
    }
    return MLPClassifier(**{**defaults, **settings})


def small_regressor(**settings):
    """Return a small MLPRegressor trained by SGD in milliseconds."""
    defaults = {
        "solver": "sgd",
        "hidden_layer_sizes": (8,),
        "batch_size": 16,
        "learning_rate_init": 0.01,
        "max_iter": 30,
        "n_iter_no_change": 30,
        "random_state": 0,
    }
    return MLPRegressor(**{**defaults, **settings})


def fit_quietly(model, X, y):
    """Fit model, ignoring ConvergenceWarning; return it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def test_classifier_string_labels():
    X, y = load_scaled("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[y]

    clf = fit_quietly(small_classifier(), X, names)

    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    predicted = clf.predict(X)
    assert predicted.dtype == names.dtype
    assert np.mean(predicted == names) > 0.9


def test_classifier_unordered_integer_labels():
    X, y = load_scaled("iris")
    labels = np.array([10, -1, 5])[y]

    clf = fit_quietly(small_classifier(), X, labels)

    np.testing.assert_array_equal(clf.classes_, [-1, 5, 10])
    assert np.mean(clf.predict(X) == labels) > 0.9


def test_classifier_binary_predict_proba():
    X, y = load_scaled("breast_cancer")

    clf = fit_quietly(small_classifier(), X, y)
    proba = clf.predict_proba(X)

    assert clf.out_activation_ == "logistic"
    assert clf.n_outputs_ == 1
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    positive = (proba[:, 1] > 0.5).astype(int)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[positive])
    # predict_log_proba is the log of predict_proba; logs of values in (0, 1]
    # keep about 1e-12 relative precision.
    np.testing.assert_allclose(
        clf.predict_log_proba(X[:20]), np.log(proba[:20]), rtol=1e-12
    )


def test_classifier_multiclass_predict_proba():
    X, y = load_scaled("iris")

    clf = fit_quietly(small_classifier(), X, y)
    proba = clf.predict_proba(X)

    assert clf.out_activation_ == "softmax"
    assert proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), np.argmax(proba, axis=1))


def test_classifier_multilabel_indicator():
    X, Y = make_multilabel_classification(
        n_samples=300, n_features=10, n_classes=4, random_state=0
    )
    X = StandardScaler().fit_transform(X)

    clf = fit_quietly(small_classifier(max_iter=60), X, Y)
    predicted = clf.predict(X)
    proba = clf.predict_proba(X)

    assert clf.out_activation_ == "logistic"
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    assert predicted.shape == Y.shape
    assert set(np.unique(predicted)) <= {0, 1}
    assert proba.shape == Y.shape
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    # Labels are predicted independently: most single labels are right.
    assert np.mean(predicted == Y) > 0.8


def test_regressor_multi_output():
    X, y = load_scaled("diabetes")
    Y = np.column_stack([y, 2 * y + 1])

    reg = fit_quietly(small_regressor(), X, Y)

    assert reg.n_outputs_ == 2
    assert reg.out_activation_ == "identity"
    assert reg.predict(X).shape == (len(X), 2)
    assert reg.score(X, Y) > 0.4


def test_regressor_predict_is_1d_for_1d_targets():
    X, y = load_scaled("diabetes")

    reg = fit_quietly(small_regressor(), X, y)

    assert reg.predict(X).shape == (len(X),)
    assert reg.score(X, y) > 0.4


def test_regressor_learns_linear_function():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = X @ [1.0, -2.0, 0.5]

    reg = fit_quietly(small_regressor(max_iter=100), X, y)

    assert reg.score(X, y) > 0.98


def test_estimator_float32_input_stays_float32():
    X, y = load_scaled("iris")

    clf32 = fit_quietly(small_classifier(), X.astype(np.float32), y)
    clf64 = fit_quietly(small_classifier(), X, y)
    clf_int = fit_quietly(small_classifier(), np.rint(X * 10).astype(np.int32), y)

    assert all(coef.dtype == np.float32 for coef in clf32.coefs_)
    assert all(b.dtype == np.float32 for b in clf32.intercepts_)
    assert all(coef.dtype == np.float64 for coef in clf64.coefs_)
    assert all(coef.dtype == np.float64 for coef in clf_int.coefs_)
    assert np.mean(clf32.predict(X) == y) > 0.9


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_estimator_docstring_lists_every_parameter(estimator):
    # Shared sections are filled into the docstring, so help() shows them all.
    doc = estimator.__doc__

    assert "$" not in doc
    for name in inspect.signature(estimator).parameters:
        assert f"\n    {name} : " in doc, name


def test_estimator_fitted_attributes():
    X, y = load_scaled("iris")

    clf = fit_quietly(small_classifier(hidden_layer_sizes=(6, 5), max_iter=7), X, y)

    assert [coef.shape for coef in clf.coefs_] == [(4, 6), (6, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(6,), (5,), (3,)]
    assert clf.n_layers_ == 4
    assert clf.n_outputs_ == 3
    assert clf.n_features_in_ == 4
    assert clf.n_iter_ == 7
    assert clf.t_ == 7 * len(X)
    assert len(clf.loss_curve_) == 7
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_estimator_hidden_layer_sizes_int_and_empty():
    X, y = load_scaled("iris")

    one_layer = fit_quietly(small_classifier(hidden_layer_sizes=5), X, y)
    no_hidden = fit_quietly(small_classifier(hidden_layer_sizes=()), X, y)

    assert [coef.shape for coef in one_layer.coefs_] == [(4, 5), (5, 3)]
    assert [coef.shape for coef in no_hidden.coefs_] == [(4, 3)]
    # Softmax regression separates iris almost as well as a hidden layer.
    assert no_hidden.score(X, y) > 0.85


def test_estimator_int_random_state_reproducible():
    X, y = load_scaled("iris")

    np.random.seed(1)
    first = fit_quietly(small_classifier(random_state=3), X, y)
    np.random.seed(2)
    second = fit_quietly(small_classifier(random_state=3), X, y)
    other_seed = fit_quietly(small_classifier(random_state=4), X, y)

    for coef, same in zip(first.coefs_, second.coefs_):
        np.testing.assert_array_equal(coef, same)
    assert not np.array_equal(first.coefs_[0], other_seed.coefs_[0])


def test_estimator_none_random_state_uses_global():
    X, y = load_scaled("iris")

    np.random.seed(7)
    first = fit_quietly(small_classifier(random_state=None), X, y)
    np.random.seed(7)
    second = fit_quietly(small_classifier(random_state=None), X, y)
    third = fit_quietly(small_classifier(random_state=None), X, y)

    np.testing.assert_array_equal(first.coefs_[0], second.coefs_[0])
    assert not np.array_equal(second.coefs_[0], third.coefs_[0])


def test_estimator_accepts_random_state_instance():
    X, y = load_scaled("iris")

    seeded = fit_quietly(small_classifier(random_state=np.random.RandomState(5)), X, y)
    by_int = fit_quietly(small_classifier(random_state=5), X, y)

    # An int seeds a RandomState, as in scikit-learn, so both draw alike.
    np.testing.assert_array_equal(seeded.coefs_[0], by_int.coefs_[0])


def test_estimator_thread_count_invariant():
    X, y = load_scaled("digits")

    one = fit_quietly(small_classifier(n_threads=1, max_iter=3), X, y)
    two = fit_quietly(small_classifier(n_threads=2, max_iter=3), X, y)

    for coef, same in zip(one.coefs_, two.coefs_):
        np.testing.assert_array_equal(coef, same)


def test_estimator_auto_batch_size_is_min_200_n():
    X, y = load_scaled("digits")

    auto = fit_quietly(small_classifier(batch_size="auto", max_iter=2), X, y)
    explicit = fit_quietly(small_classifier(batch_size=200, max_iter=2), X, y)

    np.testing.assert_array_equal(auto.coefs_[0], explicit.coefs_[0])


def test_estimator_large_batch_size_clipped():
    X, y = load_scaled("iris")

    with pytest.warns(UserWarning, match=r"batch_size=500 is larger than"):
        clipped = fit_quietly(small_classifier(batch_size=500, max_iter=2), X, y)
    full = fit_quietly(small_classifier(batch_size=len(X), max_iter=2), X, y)

    np.testing.assert_array_equal(clipped.coefs_[0], full.coefs_[0])


def test_estimator_dropout_training():
    X, y = load_scaled("digits")

    clf = fit_quietly(small_classifier(hidden_layer_sizes=(64,), dropout=0.2), X, y)
    per_layer = fit_quietly(
        small_classifier(hidden_layer_sizes=(64,), dropout=[0.1, 0.3]), X, y
    )

    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert clf.score(X, y) > 0.9
    assert per_layer.score(X, y) > 0.9


def test_estimator_tol_stops_early_as_sklearn():
    X, y = load_scaled("iris")
    # A tolerance no epoch can beat: every epoch after the first counts as no
    # improvement, so training stops after n_iter_no_change + 2 epochs.
    settings = {"solver": "sgd", "tol": 100.0, "n_iter_no_change": 3, "max_iter": 50}

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = MLPClassifier(random_state=0, **settings).fit(X, y)
        theirs = neural_network.MLPClassifier(random_state=0, **settings).fit(X, y)

    assert ours.n_iter_ == 5
    assert ours.n_iter_ == theirs.n_iter_
    assert len(ours.loss_curve_) == 5


def test_estimator_stops_when_loss_stalls():
    X, y = load_scaled("iris")

    clf = small_classifier(tol=1e-3, n_iter_no_change=2, max_iter=1000).fit(X, y)

    assert clf.n_iter_ < 1000
    last = clf.loss_curve_[-3:]
    assert all(loss > clf.best_loss_ - 1e-3 for loss in last)


def test_estimator_convergence_warning_at_max_iter():
    X, y = load_scaled("iris")

    with pytest.warns(ConvergenceWarning, match=r"stopped at max_iter=3 epochs"):
        clf = small_classifier(max_iter=3).fit(X, y)

    assert clf.n_iter_ == 3


def test_estimator_verbose_prints_each_epoch(capsys):
    X, y = load_scaled("iris")

    clf = small_classifier(verbose=True, tol=100.0, n_iter_no_change=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()

    assert lines[0] == f"Iteration 1, loss = {clf.loss_curve_[0]:.8f}"
    assert lines[2] == f"Iteration 3, loss = {clf.loss_curve_[2]:.8f}"
    assert lines[3] == (
        "Training loss did not improve more than tol=100.000000 for 1 "
        "consecutive epochs. Stopping."
    )
    assert len(lines) == 4


def test_estimator_warm_start_continues_training():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(max_iter=5, warm_start=True), X, y)
    first_curve = list(clf.loss_curve_)

    fit_quietly(clf, X, y)

    assert clf.n_iter_ == 5
    assert clf.t_ == 10 * len(X)
    assert clf.loss_curve_[:5] == first_curve
    assert len(clf.loss_curve_) == 10
    # Training went on from the fitted weights, so the loss kept falling.
    assert clf.loss_curve_[5] < first_curve[0]


def test_estimator_without_warm_start_restarts():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(max_iter=5), X, y)
    first_curve = list(clf.loss_curve_)

    fit_quietly(clf, X, y)

    assert clf.loss_curve_ == first_curve


def test_estimator_partial_fit_runs_one_epoch():
    X, y = load_scaled("digits")
    clf = small_classifier()

    for _ in range(3):
        clf.partial_fit(X, y, classes=np.arange(10))

    assert clf.n_iter_ == 1
    assert clf.t_ == 3 * len(X)
    assert len(clf.loss_curve_) == 3
    assert clf.loss_curve_[2] < clf.loss_curve_[0]


def test_estimator_partial_fit_equals_fit():
    X, y = load_scaled("iris")
    fitted = fit_quietly(small_classifier(max_iter=4), X, y)
    stepped = small_classifier()

    for _ in range(4):
        stepped.partial_fit(X, y, classes=np.unique(y))

    # The momentum and the shuffling carry over between partial_fit calls.
    np.testing.assert_allclose(stepped.loss_curve_, fitted.loss_curve_, rtol=1e-12)
    np.testing.assert_array_equal(stepped.coefs_[0], fitted.coefs_[0])


def test_classifier_partial_fit_requires_classes_first():
    X, y = load_scaled("iris")

    with pytest.raises(ValueError, match="classes must be given on the first call"):
        small_classifier().partial_fit(X, y)


def test_regressor_partial_fit_improves():
    X, y = load_scaled("diabetes")
    reg = small_regressor()

    for _ in range(5):
        reg.partial_fit(X, y)

    assert len(reg.loss_curve_) == 5
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_estimator_pickle_round_trip():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(), X, y)

    restored = pickle.loads(pickle.dumps(clf))

    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    restored.partial_fit(X, y)
    assert len(restored.loss_curve_) == len(clf.loss_curve_) + 1


def test_estimator_predict_uses_assigned_coefs():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(), X, y)

    clf.coefs_[-1][:] = 0.0
    clf.intercepts_[-1][:] = [0.0, 5.0, 0.0]

    np.testing.assert_array_equal(clf.predict(X), np.ones(len(X)))


def test_estimator_predict_before_fit_raises():
    X, _ = load_scaled("iris")

    with pytest.raises(NotFittedError, match="not fitted yet"):
        MLPClassifier().predict(X)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        MLPRegressor().predict(X)


def test_estimator_predict_wrong_feature_count():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(), X, y)

    message = "X has 3 features, but MLPClassifier is expecting 4 features"
    with pytest.raises(ValueError, match=message):
        clf.predict(X[:, :3])


def bad_data_cases():
    """Return (X, y, expected error message) triples for bad training data."""
    X, y = load_scaled("iris")
    X = X[:40]
    y = y[40:80]
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    return [
        pytest.param(X_nan, y, "Input X contains NaN", id="nan-in-X"),
        pytest.param(X_inf, y, "Input X contains infinity", id="inf-in-X"),
        pytest.param(X[:0], y[:0], "0 sample", id="empty-X"),
        pytest.param(X, y[:-1], "inconsistent numbers of samples", id="lengths"),
        pytest.param(X, np.ones(len(X)), "only one class: 1.0", id="one-class"),
        pytest.param(X[:, 0], y, "Expected 2D array, got 1D array", id="1d-X"),
    ]


@pytest.mark.parametrize(("X", "y", "message"), bad_data_cases())
def test_classifier_rejects_bad_data(X, y, message):
    with pytest.raises(ValueError, match=message):
        small_classifier().fit(X, y)


def test_regressor_rejects_non_finite_targets():
    X, y = load_scaled("diabetes")
    y = y.copy()
    y[5] = np.nan

    with pytest.raises(ValueError, match="Input y contains NaN"):
        small_regressor().fit(X, y)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"activation": "softplus"}, r"'activation' parameter of MLPClassifier"),
        ({"learning_rate_init": 0.0}, r"must be a float in the range \(0.0, inf\)"),
        ({"learning_rate_init": -1}, r"'learning_rate_init' parameter .* Got -1"),
        ({"batch_size": 0}, r"'batch_size' parameter .* Got 0 instead"),
        ({"batch_size": "big"}, r"a str among \{'auto'\} or an int"),
        ({"dropout": 1.0}, r"'dropout' parameter .* Got 1.0 instead"),
        ({"dropout": -0.1}, r"'dropout' parameter .* Got -0.1 instead"),
        ({"dropout": [0.1, 0.2, 0.3]}, r"sequence of 2 such floats"),
        ({"alpha": -1}, r"'alpha' parameter of MLPClassifier must be a float in the "),
        ({"l1": -0.5}, r"'l1' parameter .* range \[0.0, inf\). Got -0.5"),
        ({"momentum": 1.0}, r"'momentum' parameter .* \[0.0, 1.0\)"),
        ({"max_iter": 0}, r"'max_iter' parameter .* an int in the range \[1, 46116"),
        ({"max_iter": 2**63}, r"range \[1, 4611686018427387904\]. Got 92233"),
        ({"n_threads": 2**31}, r"'n_threads' parameter .* \[1, 2147483647\]"),
        ({"hidden_layer_sizes": (4, 0)}, r"'hidden_layer_sizes' parameter"),
        ({"random_state": -1}, r"'random_state' parameter"),
        ({"n_threads": 0}, r"'n_threads' parameter"),
        ({"shuffle": 1}, r"'shuffle' parameter .* an instance of 'bool'"),
        ({"solver": "newton"}, r"'solver' parameter .* Got 'newton' instead"),
        ({"learning_rate": "cosine"}, r"'learning_rate' parameter .* 'adaptive'\}"),
        ({"power_t": -0.5}, r"'power_t' parameter .* Got -0.5 instead"),
        ({"beta_1": 1.0}, r"'beta_1' parameter .* \[0.0, 1.0\). Got 1.0"),
        ({"epsilon": 0.0}, r"'epsilon' parameter .* \(0.0, inf\). Got 0.0"),
        ({"max_fun": 0}, r"'max_fun' parameter .* Got 0 instead"),
        (
            {"solver": "lbfgs", "dropout": 0.2},
            r"dropout=0.2 needs a stochastic solver, but solver='lbfgs'",
        ),
        (
            {"solver": "lbfgs", "dropout": [0.0, 0.1]},
            r"Set dropout=0.0, or solver='adam' or 'sgd'",
        ),
        ({"verbose": "loud"}, r"'verbose' parameter .* or a callable. Got 'loud'"),
        ({"progress_bar": 1}, r"'progress_bar' parameter .* instance of 'bool'"),
        ({"early_stopping": 1}, r"'early_stopping' parameter .* instance of 'bool'"),
        ({"validation_fraction": 1.0}, r"'validation_fraction' parameter .* 1.0\)"),
        (
            {"early_stopping": True, "validation_fraction": 0.0},
            r"needs a validation set, but validation_fraction=0.0",
        ),
    ],
)
def test_classifier_rejects_bad_parameters(settings, message):
    X, y = load_scaled("iris")

    with pytest.raises(ValueError, match=message):
        small_classifier(**settings).fit(X, y)


def test_regressor_rejects_poisson_loss():
    X, y = load_scaled("diabetes")

    with pytest.raises(ValueError, match=r"loss='poisson' is not implemented"):
        small_regressor(loss="poisson").fit(X, y)


def test_estimator_parameter_error_is_type_error():
    X, y = load_scaled("iris")

    with pytest.raises(TypeError, match="'alpha' parameter"):
        small_classifier(alpha="strong").fit(X, y)


def test_estimator_rejected_fit_leaves_model_unchanged():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(), X, y)
    state = pickle.dumps(clf)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan

    with pytest.raises(ValueError, match="NaN"):
        clf.fit(X_nan, y)
    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="'alpha' parameter"):
        clf.set_params(alpha=-1.0).fit(X, y)
    clf.set_params(alpha=1e-4, warm_start=True)
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.fit(X[:, :3], y)
    with pytest.raises(ValueError, match="fitted classes"):
        clf.fit(X[y < 2], y[y < 2])

    clf.set_params(warm_start=False)
    assert pickle.dumps(clf) == state


def test_estimator_rejected_first_fit_unfitted():
    X, _ = load_scaled("iris")
    clf = small_classifier()

    with pytest.raises(ValueError, match="only one class"):
        clf.fit(X, np.zeros(len(X)))

    assert not hasattr(clf, "n_features_in_")
    with pytest.raises(NotFittedError):
        clf.predict(X)


def test_estimator_warm_start_rejects_other_layer_sizes():
    X, y = load_scaled("iris")
    clf = fit_quietly(small_classifier(warm_start=True), X, y)

    with pytest.raises(ValueError, match=r"layer sizes \(4, 5, 3\)"):
        clf.set_params(hidden_layer_sizes=(5,)).fit(X, y)


# Every solver. scikit-learn runs its checks on its MLPs with max_iter=100.
SKLEARN_CHECKED_ESTIMATORS = [
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(solver="sgd", max_iter=100),
    MLPRegressor(solver="sgd", max_iter=100),
    MLPClassifier(solver="lbfgs", max_iter=100),
    MLPRegressor(solver="lbfgs", max_iter=100),
]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@parametrize_with_checks(SKLEARN_CHECKED_ESTIMATORS)
def test_estimator_passes_sklearn_checks(estimator, check):
    # SciPy's L-BFGS-B calls BLAS on vectors of a few hundred entries. On a
    # busy 2-core machine, waking BLAS threads for them made the lbfgs checks
    # about 30 times slower.
    with threadpool_limits(limits=1, user_api="blas"):
        check(estimator)


def test_estimator_divergence_raises():
    X, y = load_scaled("diabetes")
    reg = small_regressor()

    with pytest.raises(ValueError, match="SGD diverged to a non-finite loss"):
        reg.set_params(learning_rate_init=10.0).fit(X * 100, y)

    assert not hasattr(reg, "coefs_")


def test_estimator_divergence_keeps_core_message(monkeypatch):
    X, y = load_scaled("diabetes")
    reg = small_regressor()
    core_message = (
        "training diverged: the loss of batch 2 in epoch 1 is inf; "
        "the model was restored to the start of that epoch"
    )

    def diverge(*args, **kwargs):
        raise RuntimeError(core_message)

    monkeypatch.setattr(MLP, "_fit", diverge)
    with pytest.raises(ValueError, match="Lower learning_rate_init") as error:
        reg.fit(X, y)

    assert core_message in str(error.value)
    assert isinstance(error.value.__cause__, RuntimeError)
    assert not hasattr(reg, "coefs_")


def test_estimator_other_runtime_error_propagates(monkeypatch):
    X, y = load_scaled("diabetes")

    def fail(*args, **kwargs):
        raise RuntimeError("cannot fit a model while fit runs on it in another thread")

    monkeypatch.setattr(MLP, "_fit", fail)
    with pytest.raises(RuntimeError, match="another thread"):
        small_regressor().fit(X, y)
