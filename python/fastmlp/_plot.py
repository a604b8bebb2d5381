"""Plot of an estimator's training loss and validation score per epoch."""

from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted


def plot_loss_curve(estimator, ax=None):
    """Plot the training loss of each epoch and, if recorded, the validation score.

    The loss goes on ``ax`` against the epoch number, counted from 1. With
    early stopping, ``validation_scores_`` goes on a second y axis that
    shares the x axis (``ax.figure.axes`` lists both), aligned with the last
    epochs when it is shorter than ``loss_curve_``. One legend on ``ax``
    names both curves.

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        A fitted estimator. scikit-learn's MLPs fitted with the "sgd" or
        "adam" solver work too.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. None draws on a new figure from ``pyplot.subplots``.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes that show the loss.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        When the estimator is not fitted yet.
    ValueError
        When it was fitted by solver="lbfgs", which records no loss curve.
    ImportError
        When ``ax`` is None and matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from fastmlp import MLPClassifier, plot_loss_curve
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPClassifier(
    ...     early_stopping=True, learning_rate_init=0.01, max_iter=20, random_state=0
    ... ).fit(X, y)
    >>> ax = plot_loss_curve(clf)
    >>> ax.get_xlabel()
    'epoch'
    """
    check_is_fitted(estimator)
    if not hasattr(estimator, "loss_curve_"):
        raise ValueError(
            f"{type(estimator).__name__} was fitted with solver="
            f"{getattr(estimator, 'solver', None)!r}, which records no loss curve "
            "(as in scikit-learn); fit with solver='adam' or 'sgd' to plot one"
        )
    if ax is None:
        _, ax = _import_pyplot().subplots()

    losses = list(estimator.loss_curve_)
    epochs = range(1, len(losses) + 1)
    (loss_line,) = ax.plot(epochs, losses, color="C0", label="training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(f"{type(estimator).__name__} loss curve")
    lines = [loss_line]
    legend_location = "best"

    scores = getattr(estimator, "validation_scores_", None)
    if scores:
        name = "validation accuracy" if is_classifier(estimator) else "validation R^2"
        first_epoch = len(losses) - len(scores) + 1
        score_axes = ax.twinx()
        (score_line,) = score_axes.plot(
            range(first_epoch, len(losses) + 1), scores, color="C1", label=name
        )
        score_axes.set_ylabel(name)
        lines.append(score_line)
        # Draw ax, and so its legend, above the twin axes. "best" would only
        # avoid the loss curve, while a falling loss and a rising score
        # usually leave the middle of the right side free.
        ax.set_zorder(score_axes.get_zorder() + 1)
        ax.patch.set_visible(False)
        legend_location = "center right"

    ax.legend(lines, [line.get_label() for line in lines], loc=legend_location)
    return ax


def _import_pyplot():
    """Return matplotlib.pyplot; raise ImportError naming the install command."""
    try:
        import matplotlib.pyplot as pyplot
    except ImportError as error:
        raise ImportError(
            "plot_loss_curve needs matplotlib, which is not installed. Install "
            "it with `pip install matplotlib`."
        ) from error
    return pyplot
