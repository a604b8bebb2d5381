"""The estimators inside scikit-learn's tools: pickle, joblib, pipelines, search."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn import neural_network
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor

pd = pytest.importorskip("pandas")


def raw(name):
    """Return iris or diabetes features, and the target (standardised for diabetes)."""
    load = load_iris if name == "iris" else load_diabetes
    X, y = load(return_X_y=True)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    return X, y


def scaled(name, dtype=np.float64):
    """Return standardised iris or diabetes features in dtype, and the target."""
    X, y = raw(name)
    return StandardScaler().fit_transform(X).astype(dtype), y


def small(estimator_class, **settings):
    """Return a small, seeded estimator that trains in milliseconds."""
    defaults = {
        "hidden_layer_sizes": (8,),
        "batch_size": 16,
        "learning_rate_init": 0.05 if estimator_class is MLPClassifier else 0.01,
        "max_iter": 20,
        "random_state": 0,
        "n_threads": 1,
    }
    return estimator_class(**{**defaults, **settings})


def quiet_fit(model, X, y):
    """Fit model, ignoring ConvergenceWarning; return it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def outputs(model, X):
    """Return predict_proba for a classifier and predict for a regressor."""
    if isinstance(model, MLPClassifier):
        return model.predict_proba(X)
    return model.predict(X)


CASES = [
    pytest.param(MLPClassifier, "iris", id="classifier"),
    pytest.param(MLPRegressor, "diabetes", id="regressor"),
]


@pytest.mark.parametrize(("estimator_class", "data"), CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ecosystem_pickle_round_trip(estimator_class, data, dtype):
    X, y = scaled(data, dtype)
    model = quiet_fit(small(estimator_class), X, y)

    restored = pickle.loads(pickle.dumps(model))

    assert restored.coefs_[0].dtype == dtype
    np.testing.assert_array_equal(outputs(restored, X), outputs(model, X))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


@pytest.mark.parametrize(("estimator_class", "data"), CASES)
def test_ecosystem_pickling_leaves_model_unchanged(estimator_class, data):
    X, y = scaled(data)
    pickled = quiet_fit(small(estimator_class), X, y)
    untouched = quiet_fit(small(estimator_class), X, y)

    pickle.dumps(pickled)
    pickled.partial_fit(X, y)
    untouched.partial_fit(X, y)

    # partial_fit continues with the optimizer state and the shuffling of the
    # training run in both, so the weights stay equal.
    np.testing.assert_array_equal(pickled.coefs_[0], untouched.coefs_[0])


@pytest.mark.parametrize(("estimator_class", "data"), CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ecosystem_joblib_round_trip(tmp_path, estimator_class, data, dtype):
    X, y = scaled(data, dtype)
    model = quiet_fit(small(estimator_class, early_stopping=True), X, y)
    path = tmp_path / "model.joblib"

    joblib.dump(model, path)
    restored = joblib.load(path)

    assert restored.coefs_[0].dtype == dtype
    assert restored.validation_scores_ == model.validation_scores_
    np.testing.assert_array_equal(outputs(restored, X), outputs(model, X))


def ignore_epoch(epoch, loss, validation_score):
    """Do nothing: a verbose callable that clone must pass on unchanged."""


@pytest.mark.parametrize(("estimator_class", "data"), CASES)
def test_ecosystem_clone_unfitted_same_params(estimator_class, data):
    X, y = scaled(data)
    model = quiet_fit(
        small(estimator_class, dropout=[0.1, 0.2], verbose=ignore_epoch),
        X,
        y,
    )

    copy = clone(model)

    assert copy.get_params() == model.get_params()
    assert copy.dropout == [0.1, 0.2]
    assert copy.verbose is ignore_epoch
    assert not hasattr(copy, "coefs_")
    # A clone trains from the same seed to the same weights.
    quiet_fit(copy, X, y)
    np.testing.assert_array_equal(copy.coefs_[0], model.coefs_[0])


@pytest.mark.parametrize(("estimator_class", "data"), CASES)
def test_ecosystem_pipeline_with_scaler(estimator_class, data):
    X, y = raw(data)
    X_scaled, _ = scaled(data)
    pipeline = make_pipeline(StandardScaler(), small(estimator_class))

    quiet_fit(pipeline, X, y)
    alone = quiet_fit(small(estimator_class), X_scaled, y)

    np.testing.assert_array_equal(pipeline.predict(X), alone.predict(X_scaled))
    assert pipeline.score(X, y) == alone.score(X_scaled, y)


def test_ecosystem_grid_search_two_jobs():
    X, y = scaled("iris")
    grid = {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(4,), (8,)]}

    results = {}
    for n_jobs in (1, 2):
        search = GridSearchCV(small(MLPClassifier), grid, cv=3, n_jobs=n_jobs)
        # scikit-learn passes the warning filters on to its worker processes.
        quiet_fit(search, X, y)
        results[n_jobs] = search

    # The workers get pickled copies, and the same seed trains to the same
    # weights in any process.
    np.testing.assert_array_equal(
        results[2].cv_results_["mean_test_score"],
        results[1].cv_results_["mean_test_score"],
    )
    assert results[2].best_params_ == results[1].best_params_
    assert results[2].best_score_ > 0.85
    assert results[2].best_estimator_.n_features_in_ == 4


def test_ecosystem_cross_val_score():
    X, y = scaled("diabetes")
    folds = KFold(n_splits=4, shuffle=True, random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(small(MLPRegressor), X, y, cv=folds)

    assert scores.shape == (4,)
    # R^2 of diabetes: about 0.45 for a linear model.
    assert scores.mean() > 0.3


def iris_frame():
    """Return iris as a DataFrame with its column names, and the labels."""
    X, y = load_iris(return_X_y=True, as_frame=True)
    return X, y.to_numpy()


def test_ecosystem_dataframe_sets_feature_names():
    X, y = iris_frame()

    clf = quiet_fit(small(MLPClassifier), X, y)

    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    assert clf.feature_names_in_.dtype == object
    # The same columns predict without a warning (pytest turns one into an error).
    assert clf.predict(X).shape == y.shape


def feature_name_outcome(model, X):
    """Return (kind, message) of what predicting X raises or warns, or None."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.predict(X)
        except ValueError as error:
            return ("ValueError", str(error))
    messages = [(w.category.__name__, str(w.message)) for w in caught]
    return messages[0] if messages else None


FEATURE_NAME_CASES = {
    "renamed": lambda X: X.rename(columns=str.upper),
    "reordered": lambda X: X[X.columns[::-1]],
    "array": lambda X: X.to_numpy(),
    "same": lambda X: X.copy(),
}


@pytest.mark.parametrize("case", FEATURE_NAME_CASES)
def test_ecosystem_feature_names_checked_like_sklearn(case):
    X, y = iris_frame()
    settings = {"solver": "sgd", "max_iter": 3, "random_state": 0}
    ours = quiet_fit(MLPClassifier(**settings), X, y)
    theirs = quiet_fit(neural_network.MLPClassifier(**settings), X, y)
    X_other = FEATURE_NAME_CASES[case](X)

    ours_outcome = feature_name_outcome(ours, X_other)

    assert ours_outcome == feature_name_outcome(theirs, X_other)
    if case == "same":
        assert ours_outcome is None
    else:
        assert ours_outcome is not None


def test_ecosystem_names_after_array_fit_warn():
    X, y = iris_frame()
    clf = quiet_fit(small(MLPClassifier), X.to_numpy(), y)

    with pytest.warns(UserWarning, match="X has feature names, but MLPClassifier"):
        clf.predict(X)


def test_ecosystem_pandas_output_pipeline():
    X, y = iris_frame()
    scaler = StandardScaler().set_output(transform="pandas")
    pipeline = make_pipeline(scaler, small(MLPClassifier, early_stopping=True))

    quiet_fit(pipeline, X, y)
    clf = pipeline[-1]

    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    assert pipeline.score(X, y) > 0.85
    np.testing.assert_array_equal(pipeline.predict(X), clf.predict(scaler.transform(X)))
