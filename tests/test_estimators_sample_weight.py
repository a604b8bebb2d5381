"""sample_weight in the estimators' fit and partial_fit, against scikit-learn."""

import pickle

import numpy as np
import pytest
from sklearn import neural_network
from threadpoolctl import threadpool_limits

from fastmlp import MLPClassifier, MLPRegressor
from test_estimators_solvers import (
    STOCHASTIC_SETTINGS,
    assert_same_training,
    fit_from_same_weights,
    load,
    quiet_fit,
)


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Run every test with one BLAS thread, for SciPy's L-BFGS-B on short vectors."""
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def sample_weights(n_samples):
    """Return seeded weights in [0, 3), a tenth of them exactly zero."""
    rng = np.random.default_rng(2)
    weights = rng.uniform(0, 3, n_samples)
    weights[rng.permutation(n_samples)[: n_samples // 10]] = 0.0
    return weights


@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("multiclass", {"solver": "sgd", "hidden_layer_sizes": (6,)}),
        ("binary", {"solver": "adam", "hidden_layer_sizes": (4,)}),
        ("multilabel", {"solver": "sgd", "hidden_layer_sizes": (5,), "alpha": 0.1}),
        ("multi-output", {"solver": "adam", "learning_rate_init": 0.01}),
        ("regression", {"solver": "lbfgs", "hidden_layer_sizes": (8,)}),
        ("multiclass", {"solver": "lbfgs", "hidden_layer_sizes": (6,)}),
    ],
)
def test_sample_weight_training_matches_sklearn(kind, settings):
    X, y, ours_class, theirs_class = load(kind)
    settings = {**STOCHASTIC_SETTINGS, **settings}
    if settings["solver"] == "lbfgs":
        settings = {"alpha": 1e-3, **settings}
    ours, theirs = ours_class(**settings), theirs_class(**settings)
    weights = sample_weights(len(X))

    fit_from_same_weights(ours, theirs, X, y, epochs=12, sample_weight=weights)

    # float64 on both sides, summed in other orders; lbfgs amplifies the
    # rounding differences most.
    assert_same_training(ours, theirs, rtol=1e-7)


def test_sample_weight_changes_training():
    X, y, _, _ = load("multiclass")
    settings = {"solver": "sgd", "max_iter": 5, "random_state": 0}

    weighted = quiet_fit(
        MLPClassifier(**settings), X, y, sample_weight=np.r_[[5.0] * 50, [1.0] * 100]
    )
    plain = quiet_fit(MLPClassifier(**settings), X, y)
    ones = quiet_fit(MLPClassifier(**settings), X, y, sample_weight=np.ones(len(X)))

    assert not np.allclose(weighted.coefs_[0], plain.coefs_[0])
    # Unit weights are the unweighted mean, with the same batches.
    np.testing.assert_array_equal(ones.coefs_[0], plain.coefs_[0])
    assert ones.loss_curve_ == plain.loss_curve_


@pytest.mark.parametrize("kind", ["multiclass", "binary", "regression"])
def test_sample_weight_early_stopping_matches_sklearn(kind):
    X, y, ours_class, theirs_class = load(kind)
    settings = {
        **STOCHASTIC_SETTINGS,
        "solver": "sgd",
        "hidden_layer_sizes": (6,),
        "learning_rate_init": 0.1 if kind != "regression" else 0.01,
        "early_stopping": True,
        "validation_fraction": 0.3,
        "tol": 1e-3,
        "n_iter_no_change": 3,
        "random_state": 3,
    }
    ours, theirs = ours_class(**settings), theirs_class(**settings)
    weights = sample_weights(len(X))

    fit_from_same_weights(ours, theirs, X, y, epochs=60, sample_weight=weights)

    # The validation rows keep their weights, which weigh the score: the
    # scores and the epoch where training stops agree with scikit-learn's.
    assert ours.n_iter_ < 60
    np.testing.assert_allclose(
        ours.validation_scores_[1:], theirs.validation_scores_[1:], rtol=1e-9
    )
    assert_same_training(ours, theirs)


def test_sample_weight_partial_fit_continues_like_sklearn():
    X, y, ours_class, theirs_class = load("regression")
    settings = {**STOCHASTIC_SETTINGS, "solver": "adam", "hidden_layer_sizes": (6,)}
    ours, theirs = ours_class(**settings), theirs_class(**settings)
    weights = sample_weights(len(X))

    fit_from_same_weights(ours, theirs, X, y, epochs=2, sample_weight=weights)
    for model in (ours, theirs):
        for _ in range(3):
            model.partial_fit(X, y, sample_weight=weights)

    assert_same_training(ours, theirs)


def test_sample_weight_scalar_is_constant_weight():
    X, y, _, _ = load("regression")
    settings = {"solver": "adam", "max_iter": 3, "random_state": 0}

    scalar = quiet_fit(MLPRegressor(**settings), X, y, sample_weight=2.0)
    array = quiet_fit(
        MLPRegressor(**settings), X, y, sample_weight=np.full(len(X), 2.0)
    )

    np.testing.assert_array_equal(scalar.coefs_[0], array.coefs_[0])


def sklearn_error(estimator_class, X, y, sample_weight):
    """Return the (type, message) of scikit-learn's error for sample_weight."""
    with pytest.raises((TypeError, ValueError)) as error:
        estimator_class().fit(X, y, sample_weight=sample_weight)
    return type(error.value), str(error.value)


BAD_WEIGHTS = {
    "length": np.ones(149),
    "2d": np.ones((150, 1)),
    "nan": np.r_[np.ones(149), np.nan],
    "inf": np.r_[np.ones(149), np.inf],
    "zeros": np.zeros(150),
    "complex": np.ones(150, dtype=complex),
}


@pytest.mark.parametrize("case", BAD_WEIGHTS)
def test_sample_weight_rejected_like_sklearn(case):
    X, y, _, _ = load("multiclass")
    weights = BAD_WEIGHTS[case]
    expected_type, expected_message = sklearn_error(
        neural_network.MLPClassifier, X, y, weights
    )
    model = MLPClassifier(solver="sgd", max_iter=2)

    with pytest.raises(expected_type) as error:
        model.fit(X, y, sample_weight=weights)

    assert str(error.value) == expected_message
    assert not hasattr(model, "coefs_")


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
def test_sample_weight_negative_rejected(solver):
    X, y, _, _ = load("regression")
    weights = np.ones(len(X))
    weights[7] = -0.5
    model = MLPRegressor(solver=solver, max_iter=2)

    with pytest.raises(ValueError, match=r"non-negative, got -0.5 at index 7"):
        model.fit(X, y, sample_weight=weights)

    assert not hasattr(model, "coefs_")


def test_sample_weight_rejected_partial_fit_leaves_model_unchanged():
    X, y, _, _ = load("multiclass")
    model = quiet_fit(MLPClassifier(solver="adam", max_iter=2, random_state=0), X, y)
    state = pickle.dumps(model)

    with pytest.raises(ValueError, match="sample_weight.shape"):
        model.partial_fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        model.partial_fit(X, y, sample_weight=-np.ones(len(X)))

    assert pickle.dumps(model) == state
