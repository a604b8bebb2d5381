"""fastmlp.plot_loss_curve, drawn with matplotlib's Agg backend."""

import sys
import warnings

import numpy as np
import pytest
from sklearn import neural_network
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import StandardScaler

from fastmlp import MLPClassifier, MLPRegressor, plot_loss_curve

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pyplot = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test opened."""
    yield
    pyplot.close("all")


def fitted(estimator):
    """Return estimator fitted on standardised iris for a few epochs."""
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if not isinstance(estimator, MLPClassifier):
        y = X[:, 0] - X[:, 1]
    estimator.set_params(hidden_layer_sizes=(8,), max_iter=6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def test_plot_loss_curve_without_validation():
    clf = fitted(MLPClassifier(learning_rate_init=0.05))

    ax = plot_loss_curve(clf)

    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 7))
    np.testing.assert_array_equal(line.get_ydata(), clf.loss_curve_)
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "training loss"
    assert len(ax.figure.axes) == 1
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["training loss"]


@pytest.mark.parametrize(
    ("estimator", "score_name"),
    [
        (MLPClassifier(early_stopping=True), "validation accuracy"),
        (MLPRegressor(early_stopping=True, learning_rate_init=0.01), "validation R^2"),
    ],
)
def test_plot_loss_curve_with_validation_scores(estimator, score_name):
    model = fitted(estimator)

    ax = plot_loss_curve(model)

    loss_axes, score_axes = ax.figure.axes
    assert loss_axes is ax
    (score_line,) = score_axes.get_lines()
    np.testing.assert_array_equal(score_line.get_xdata(), np.arange(1, 7))
    np.testing.assert_array_equal(score_line.get_ydata(), model.validation_scores_)
    assert score_axes.get_ylabel() == score_name
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["training loss", score_name]


def test_plot_loss_curve_aligns_late_validation():
    clf = fitted(MLPClassifier(warm_start=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(early_stopping=True, max_iter=2).fit(*load_iris(return_X_y=True))

    ax = plot_loss_curve(clf)

    score_line = ax.figure.axes[1].get_lines()[0]
    # Early stopping was on only in the last 2 of 8 epochs.
    np.testing.assert_array_equal(score_line.get_xdata(), [7, 8])


def test_plot_loss_curve_draws_on_given_axes():
    clf = fitted(MLPClassifier())
    figure, (left, right) = pyplot.subplots(1, 2)

    ax = plot_loss_curve(clf, ax=right)

    assert ax is right
    assert len(right.get_lines()) == 1
    assert len(left.get_lines()) == 0


def test_plot_loss_curve_accepts_sklearn_mlp():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = neural_network.MLPClassifier(max_iter=3, random_state=0).fit(X, y)

    ax = plot_loss_curve(clf)

    assert len(ax.get_lines()) == 1


def test_plot_loss_curve_unfitted_raises():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        plot_loss_curve(MLPClassifier())


def test_plot_loss_curve_lbfgs_model_raises():
    X, y = load_iris(return_X_y=True)
    clf = MLPClassifier(solver="lbfgs", max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    with pytest.raises(ValueError, match="solver='lbfgs', which records no loss"):
        plot_loss_curve(clf)


def test_plot_loss_curve_without_matplotlib_raises(monkeypatch):
    clf = fitted(MLPClassifier())
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)

    with pytest.raises(ImportError, match=r"`pip install matplotlib`"):
        plot_loss_curve(clf)
