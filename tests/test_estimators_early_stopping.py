"""Early stopping, the verbose callable and the progress bar of the estimators."""

import re
import sys
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import _multilayer_perceptron as sklearn_mlp
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor, _estimator_base


def iris():
    """Return standardised iris features and labels."""
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def diabetes():
    """Return standardised diabetes features and target."""
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), (y - y.mean()) / y.std()


def multilabel():
    """Return a small standardised multilabel problem with 3 labels."""
    X, Y = make_multilabel_classification(
        n_samples=120, n_features=6, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), Y


def quiet_fit(model, X, y):
    """Fit model, ignoring ConvergenceWarning; return it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


SETTINGS = {
    "solver": "sgd",
    "early_stopping": True,
    "batch_size": 16,
    "learning_rate_init": 0.05,
}


def early_stopping_classifier(**settings):
    """Return a small MLPClassifier with early stopping."""
    defaults = {**SETTINGS, "hidden_layer_sizes": (8,), "random_state": 0}
    return MLPClassifier(**{**defaults, **settings})


def early_stopping_regressor(**settings):
    """Return a small MLPRegressor with early stopping."""
    defaults = {
        **SETTINGS,
        "hidden_layer_sizes": (8,),
        "learning_rate_init": 0.01,
        "random_state": 0,
    }
    return MLPRegressor(**{**defaults, **settings})


@pytest.fixture
def split_recorder(monkeypatch):
    """Record the validation rows that fastmlp and scikit-learn hold out.

    Returns a dict whose "fastmlp" and "sklearn" lists receive the row
    indices of each validation set, in the order of the split.
    """
    splits = {"fastmlp": [], "sklearn": []}
    split = _estimator_base.train_test_split

    def fastmlp_split(rows, **options):
        train, validation = split(rows, **options)
        splits["fastmlp"].append(validation)
        return train, validation

    def sklearn_split(X, y, **options):
        # Splitting the row numbers along with X and y draws the same
        # permutation, so the third pair of outputs names the rows.
        rows = np.arange(len(X))
        X_train, X_val, y_train, y_val, _, validation = split(X, y, rows, **options)
        splits["sklearn"].append(validation)
        return X_train, X_val, y_train, y_val

    monkeypatch.setattr(_estimator_base, "train_test_split", fastmlp_split)
    monkeypatch.setattr(sklearn_mlp, "train_test_split", sklearn_split)
    return splits


SPLIT_CASES = {
    "multiclass": (iris, "classifier", {"hidden_layer_sizes": (5,)}),
    "binary": (iris, "binary", {"hidden_layer_sizes": (4, 3)}),
    "multilabel": (multilabel, "classifier", {"hidden_layer_sizes": (6,)}),
    "regression": (diabetes, "regressor", {"hidden_layer_sizes": ()}),
    "logistic": (
        diabetes,
        "regressor",
        {"hidden_layer_sizes": (7, 2), "activation": "logistic"},
    ),
}


@pytest.mark.parametrize("case", SPLIT_CASES)
@pytest.mark.parametrize("random_state", [0, 7])
@pytest.mark.parametrize("warm_start", [False, True])
def test_early_stopping_split_matches_sklearn(
    split_recorder, case, random_state, warm_start
):
    load, kind, settings = SPLIT_CASES[case]
    X, y = load()
    if kind == "binary":
        y = y == 1
    settings = {
        **settings,
        "solver": "sgd",
        "early_stopping": True,
        "validation_fraction": 0.2,
        "random_state": random_state,
        "max_iter": 2,
        "warm_start": warm_start,
    }
    ours_class, theirs_class = MLPClassifier, neural_network.MLPClassifier
    if kind == "regressor":
        ours_class, theirs_class = MLPRegressor, neural_network.MLPRegressor
    ours, theirs = ours_class(**settings), theirs_class(**settings)

    # The first fit draws new weights before splitting; a warm-start fit of a
    # fitted model splits with a fresh RandomState.
    for _ in range(2 if warm_start else 1):
        quiet_fit(ours, X, y)
        quiet_fit(theirs, X, y)

    assert len(split_recorder["fastmlp"]) == len(split_recorder["sklearn"])
    for got, expected in zip(split_recorder["fastmlp"], split_recorder["sklearn"]):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("random_state", [0, 1, 4])
def test_early_stopping_split_stratified_for_binary(split_recorder, random_state):
    X, y = iris()
    positive = y == 2
    model = early_stopping_classifier(
        validation_fraction=0.2, max_iter=1, random_state=random_state
    )

    quiet_fit(model, X, positive)
    quiet_fit(model, X, y)

    binary_rows, multiclass_rows = split_recorder["fastmlp"]
    # 50 of 150 samples are positive, so a stratified 30-sample validation
    # set contains exactly 10 of them (unstratified: 17, 8 and 8 here).
    assert positive[binary_rows].sum() == 10
    # scikit-learn 1.9.1 does not stratify multiclass targets: with
    # random_state 1 and 4 the three classes are not 10 each.
    counts = np.bincount(y[multiclass_rows], minlength=3)
    assert (counts.tolist() == [10, 10, 10]) == (random_state == 0)


def fit_both_from_same_weights(ours, theirs, X, y, epochs):
    """Fit both with early stopping for `epochs` epochs from the same weights.

    A one-epoch fit creates the fitted attributes and the early stopping
    record. Both then get the same random weights and a fresh record, and
    continue with warm_start, which splits with a fresh RandomState on both
    sides. Only ``loss_curve_[1:]`` covers the common run.
    """
    rng = np.random.default_rng(1)
    quiet_fit(ours.set_params(max_iter=1), X, y)
    quiet_fit(theirs.set_params(max_iter=1), X, y)
    coefs = [rng.uniform(-0.3, 0.3, coef.shape) for coef in theirs.coefs_]
    intercepts = [rng.uniform(-0.3, 0.3, b.shape) for b in theirs.intercepts_]
    for model in (ours, theirs):
        model.coefs_ = [coef.copy() for coef in coefs]
        model.intercepts_ = [b.copy() for b in intercepts]
        model.validation_scores_ = []
        model.best_validation_score_ = -np.inf
        model._no_improvement_count = 0
        quiet_fit(model.set_params(warm_start=True, max_iter=epochs), X, y)


SAME_WEIGHT_SETTINGS = {
    "solver": "sgd",
    "early_stopping": True,
    "validation_fraction": 0.25,
    "batch_size": 16,
    "alpha": 1e-3,
    "shuffle": False,
    "random_state": 3,
    "tol": 1e-3,
    "n_iter_no_change": 3,
}


@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("multiclass", {"hidden_layer_sizes": (6,), "learning_rate_init": 0.1}),
        ("binary", {"hidden_layer_sizes": (4,), "learning_rate_init": 0.1}),
        ("multilabel", {"hidden_layer_sizes": (5,), "learning_rate_init": 0.1}),
        ("regression", {"hidden_layer_sizes": (8,), "learning_rate_init": 0.01}),
    ],
)
def test_early_stopping_training_matches_sklearn(kind, settings):
    if kind == "multilabel":
        X, y = multilabel()
    elif kind == "regression":
        X, y = diabetes()
    else:
        X, y = iris()
        y = y == 1 if kind == "binary" else y
    ours_class, theirs_class = MLPClassifier, neural_network.MLPClassifier
    if kind == "regression":
        ours_class, theirs_class = MLPRegressor, neural_network.MLPRegressor
    ours = ours_class(**SAME_WEIGHT_SETTINGS, **settings)
    theirs = theirs_class(**SAME_WEIGHT_SETTINGS, **settings)

    fit_both_from_same_weights(ours, theirs, X, y, epochs=60)

    # Both stop on the validation score well before max_iter.
    assert ours.n_iter_ < 60
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.best_loss_ is None
    # float64 on both sides, summed in other orders: the losses, R^2 values
    # and restored weights agree to rounding level. Accuracies are ratios of
    # the same counts, so they agree exactly.
    np.testing.assert_allclose(ours.loss_curve_[1:], theirs.loss_curve_[1:], rtol=1e-9)
    np.testing.assert_allclose(
        ours.validation_scores_, theirs.validation_scores_, rtol=1e-9
    )
    assert ours.best_validation_score_ == pytest.approx(
        theirs.best_validation_score_, rel=1e-9
    )
    for coef, expected in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(coef, expected, rtol=1e-9, atol=1e-12)
    for intercept, expected in zip(ours.intercepts_, theirs.intercepts_):
        np.testing.assert_allclose(intercept, expected, rtol=1e-9, atol=1e-12)


def validation_rows(model, X, y, split_recorder):
    """Fit model and return the (X, y) rows it held out for validation."""
    quiet_fit(model, X, y)
    rows = split_recorder["fastmlp"][-1]
    return X[rows], y[rows]


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_early_stopping_restores_best_weights(split_recorder, kind):
    if kind == "classifier":
        X, y = iris()
        model = early_stopping_classifier(tol=0.0, n_iter_no_change=5, max_iter=200)
    else:
        X, y = diabetes()
        model = early_stopping_regressor(tol=0.0, n_iter_no_change=5, max_iter=200)

    X_val, y_val = validation_rows(model, X, y, split_recorder)
    best_epoch = int(np.argmax(model.validation_scores_)) + 1
    # The same seed and split replay the first best_epoch epochs exactly.
    replay = quiet_fit(
        model.__class__(**{**model.get_params(), "max_iter": best_epoch}), X, y
    )

    assert model.n_iter_ > best_epoch
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert model.score(X_val, y_val) == pytest.approx(
        model.best_validation_score_, rel=1e-12
    )
    for coef, expected in zip(model.coefs_, replay.coefs_):
        np.testing.assert_array_equal(coef, expected)
    assert replay.validation_scores_ == model.validation_scores_[:best_epoch]


def test_early_stopping_tol_on_validation_score():
    X, y = iris()
    # No epoch can raise the score by 100: every epoch after the first counts
    # as no improvement, so training stops after n_iter_no_change + 2 epochs.
    settings = {**SETTINGS, "tol": 100.0, "n_iter_no_change": 3, "random_state": 0}

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = MLPClassifier(**settings).fit(X, y)
        theirs = neural_network.MLPClassifier(**settings).fit(X, y)

    assert ours.n_iter_ == 5
    assert ours.n_iter_ == theirs.n_iter_
    assert len(ours.validation_scores_) == 5


def test_early_stopping_fitted_attributes():
    X, y = iris()

    with_validation = quiet_fit(early_stopping_classifier(max_iter=4), X, y)
    without = quiet_fit(early_stopping_classifier(early_stopping=False), X, y)

    assert with_validation.best_loss_ is None
    assert len(with_validation.validation_scores_) == 4
    assert all(isinstance(s, float) for s in with_validation.validation_scores_)
    assert with_validation.best_validation_score_ == max(
        with_validation.validation_scores_
    )
    # 10% of 150 samples are held out, so 135 train in each epoch.
    assert with_validation.t_ == 4 * 135
    assert without.validation_scores_ is None
    assert without.best_validation_score_ is None
    assert without.best_loss_ == min(without.loss_curve_)


def test_early_stopping_convergence_warning_names_score():
    X, y = iris()

    with pytest.warns(ConvergenceWarning, match="while the validation score was"):
        early_stopping_classifier(max_iter=2).fit(X, y)


@pytest.mark.parametrize(
    "estimator_class", [MLPClassifier, neural_network.MLPClassifier]
)
def test_early_stopping_small_validation_set_raises(estimator_class):
    X, y = iris()
    # 2% of 50 samples rounds up to one validation sample (multiclass
    # targets are not stratified, so the split itself succeeds).
    model = estimator_class(solver="sgd", early_stopping=True, validation_fraction=0.02)

    with pytest.raises(ValueError, match="The validation set is too small"):
        model.fit(X[::3], y[::3])


def test_early_stopping_small_validation_unfitted():
    X, y = iris()
    model = early_stopping_classifier(validation_fraction=0.02)

    with pytest.raises(ValueError, match="Increase 'validation_fraction'"):
        model.fit(X[::3], y[::3])

    with pytest.raises(NotFittedError):
        model.predict(X)


@pytest.mark.parametrize(
    "estimator_class", [MLPClassifier, neural_network.MLPClassifier]
)
def test_early_stopping_partial_fit_raises(estimator_class):
    X, y = iris()
    model = estimator_class(solver="sgd", early_stopping=True)

    with pytest.raises(ValueError, match="partial_fit does not support early_stop"):
        model.partial_fit(X, y, classes=np.unique(y))


def test_early_stopping_off_for_partial_fit_after_fit():
    X, y = iris()
    model = quiet_fit(early_stopping_classifier(max_iter=3), X, y)

    model.set_params(early_stopping=False).partial_fit(X, y)

    assert len(model.loss_curve_) == 4
    assert model.validation_scores_ is None
    assert model.best_loss_ == model.loss_curve_[-1]
    assert model.t_ == 3 * 135 + 150


def test_early_stopping_warm_start_continues_record():
    X, y = iris()
    model = quiet_fit(early_stopping_classifier(max_iter=3, warm_start=True), X, y)
    first_scores = list(model.validation_scores_)

    quiet_fit(model.set_params(max_iter=2), X, y)

    assert model.validation_scores_[:3] == first_scores
    assert len(model.validation_scores_) == 5
    assert len(model.loss_curve_) == 5
    assert model.best_validation_score_ == max(model.validation_scores_)


def test_early_stopping_switched_on_for_warm_start():
    X, y = iris()
    model = quiet_fit(
        early_stopping_classifier(early_stopping=False, max_iter=3, warm_start=True),
        X,
        y,
    )

    quiet_fit(model.set_params(early_stopping=True, max_iter=2), X, y)

    assert len(model.loss_curve_) == 5
    assert len(model.validation_scores_) == 2
    assert model.best_loss_ is None


def test_early_stopping_interrupt_keeps_best_weights():
    X, y = iris()
    settings = {"tol": 0.0, "max_iter": 200}

    def interrupt_at_epoch_12(epoch, loss, score):
        if epoch == 12:
            raise KeyboardInterrupt

    interrupted = early_stopping_classifier(verbose=interrupt_at_epoch_12, **settings)
    with pytest.warns(UserWarning, match="interrupted by Ctrl-C"):
        interrupted.fit(X, y)
    best_epoch = int(np.argmax(interrupted.validation_scores_)) + 1
    replay = quiet_fit(early_stopping_classifier(max_iter=best_epoch), X, y)

    assert interrupted.n_iter_ == 12
    for coef, expected in zip(interrupted.coefs_, replay.coefs_):
        np.testing.assert_array_equal(coef, expected)


def number_free(lines):
    """Return the lines with every number replaced by N."""
    return [re.sub(r"\d+(\.\d+)?", "N", line) for line in lines]


def test_early_stopping_verbose_lines_like_sklearn(capsys):
    X, y = iris()
    settings = {**SETTINGS, "tol": 100.0, "n_iter_no_change": 1, "random_state": 0}

    ours = MLPClassifier(verbose=True, **settings).fit(X, y)
    our_lines = capsys.readouterr().out.splitlines()
    neural_network.MLPClassifier(verbose=True, **settings).fit(X, y)
    their_lines = capsys.readouterr().out.splitlines()

    assert our_lines[0] == f"Iteration 1, loss = {ours.loss_curve_[0]:.8f}"
    assert our_lines[1] == f"Validation score: {ours.validation_scores_[0]:f}"
    assert our_lines[-1] == (
        "Validation score did not improve more than tol=100.000000 for 1 "
        "consecutive epochs. Stopping."
    )
    assert our_lines[-1] == their_lines[-1]
    assert number_free(our_lines) == number_free(their_lines)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_callable_gets_each_epoch(capsys, early_stopping):
    X, y = diabetes()
    calls = []
    model = early_stopping_regressor(
        early_stopping=early_stopping,
        max_iter=4,
        verbose=lambda *args: calls.append(args),
    )

    quiet_fit(model, X, y)

    assert [call[0] for call in calls] == [1, 2, 3, 4]
    assert [call[1] for call in calls] == model.loss_curve_
    scores = [call[2] for call in calls]
    if early_stopping:
        assert scores == model.validation_scores_
    else:
        assert scores == [None] * 4
    assert capsys.readouterr().out == ""


def test_verbose_callable_error_propagates():
    X, y = diabetes()

    def fail(epoch, loss, score):
        raise RuntimeError(f"stopped by the callback at epoch {epoch}")

    model = early_stopping_regressor(verbose=fail)
    with pytest.raises(RuntimeError, match="stopped by the callback at epoch 1"):
        model.fit(X, y)

    assert not hasattr(model, "coefs_")


class RecordingBar:
    """A stand-in for tqdm that records what the estimator does with its bar."""

    instances = []

    def __init__(self, **options):
        self.options = options
        self.updates = 0
        self.postfixes = []
        self.closed = False
        RecordingBar.instances.append(self)

    def set_postfix(self, values, refresh=True):
        self.postfixes.append(dict(values))

    def update(self, n):
        self.updates += n

    def close(self):
        self.closed = True


@pytest.mark.parametrize("early_stopping", [False, True])
def test_progress_bar_advances_each_epoch(monkeypatch, early_stopping):
    X, y = iris()
    RecordingBar.instances.clear()
    monkeypatch.setattr(_estimator_base, "_import_tqdm", lambda: RecordingBar)
    model = early_stopping_classifier(
        early_stopping=early_stopping, progress_bar=True, max_iter=5
    )

    quiet_fit(model, X, y)

    (bar,) = RecordingBar.instances
    assert bar.options["total"] == 5
    assert bar.updates == 5
    assert bar.closed
    assert bar.postfixes[-1]["loss"] == f"{model.loss_:.4g}"
    if early_stopping:
        score = model.validation_scores_[-1]
        assert bar.postfixes[-1]["validation_score"] == f"{score:.4g}"
    else:
        assert "validation_score" not in bar.postfixes[-1]


def test_progress_bar_closed_when_training_fails(monkeypatch):
    X, y = iris()
    RecordingBar.instances.clear()
    monkeypatch.setattr(_estimator_base, "_import_tqdm", lambda: RecordingBar)

    def fail(epoch, loss, score):
        raise RuntimeError("callback failed")

    model = early_stopping_classifier(progress_bar=True, verbose=fail)
    with pytest.raises(RuntimeError, match="callback failed"):
        model.fit(X, y)

    assert RecordingBar.instances[0].closed


def test_progress_bar_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    X, y = iris()

    quiet_fit(early_stopping_classifier(progress_bar=True, max_iter=3), X, y)

    # tqdm writes to stderr and ends with the final state of the bar.
    err = capsys.readouterr().err
    assert "3/3" in err
    assert "loss=" in err


def test_progress_bar_without_tqdm_raises(monkeypatch):
    X, y = iris()
    # A None entry in sys.modules makes `import tqdm` raise ImportError.
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model = early_stopping_classifier(progress_bar=True)

    with pytest.raises(ImportError, match=r"`pip install tqdm`"):
        model.fit(X, y)

    assert not hasattr(model, "coefs_")


def test_progress_bar_is_a_parameter():
    model = MLPRegressor(progress_bar=True)

    assert model.get_params()["progress_bar"] is True
    assert MLPClassifier().get_params()["progress_bar"] is False
