"""Prune a digits classifier by Optimal Brain Damage and by weight magnitude.

Trains a fastmlp.MLP on scikit-learn's bundled digits, then prunes two copies
of it step by step, one ranking weights by their OBD saliency h w^2 / 2 and one
by |w|, until no weight is left. It prints the validation accuracy of both
against the fraction of weights removed and plots the two curves into a PNG.

Run it as ``python -m fastmlp prune`` or ``python examples/prune.py``.
"""

import argparse
import copy
import importlib.util
import sys

import numpy as np

from .._cli import add_threads_option, load_digit_splits
from .._mlp import MLP

HIDDEN_UNITS = 64
EPOCHS = 40
# Fraction of the remaining weights removed per step, in a full run and with
# --quick. Pruning takes most of the run's time, training well under a second.
STEP = {"full": 0.05, "quick": 0.1}
LEARNING_RATE = 0.1
MOMENTUM = 0.9

# A misclassification rate cannot rise by more than 1, so tolerance 1 undoes no
# step and the pruning runs until every weight is gone, tracing the whole curve.
TRACE_TOLERANCE = 1.0
# The tolerance whose stopping points the summary reports.
REPORTED_TOLERANCE = 0.01
# Fractions removed at which the summary compares the two methods.
SUMMARY_FRACTIONS = (0.5, 0.8, 0.9, 0.95)

METHODS = ("obd", "magnitude")
LABELS = {"obd": "Optimal Brain Damage", "magnitude": "magnitude"}


def add_arguments(parser):
    """Add the example's options to an argparse parser."""
    parser.add_argument(
        "--output",
        default="prune.png",
        metavar="PATH",
        help="where to write the plot (PNG)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=(
            f"remove {STEP['quick']:g} of the remaining weights per step instead "
            f"of {STEP['full']:g}"
        ),
    )
    parser.add_argument(
        "--retrain-epochs",
        type=non_negative_int,
        default=0,
        help="epochs of SGD on the training data after each pruning step",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the initial weights"
    )
    add_threads_option(parser)


def non_negative_int(text):
    """Parse an integer >= 0 for argparse."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return value


def build_parser():
    """Return the parser of ``examples/prune.py``."""
    parser = argparse.ArgumentParser(
        prog="prune.py",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        description=__doc__.split("\n\n")[0],
    )
    add_arguments(parser)
    return parser


def trace_pruning(net, method, data, step, retrain_epochs):
    """Prune a copy of net by `method` until no weight is left; return the report."""
    X_train, y_train, X_val, y_val = data
    pruned = copy.deepcopy(net)
    fit_options = {}
    if retrain_epochs > 0:
        fit_options = {"learning_rate": LEARNING_RATE, "momentum": MOMENTUM}
    return pruned.prune(
        X_val,
        y_val,
        method=method,
        tolerance=TRACE_TOLERANCE,
        step=step,
        X_train=X_train,
        Y_train=y_train,
        retrain_epochs=retrain_epochs,
        **fit_options,
    )


def accuracy_curve(report):
    """Return (fractions removed, validation accuracies), from 0 removed on."""
    fractions = [0.0, *report.removed_fractions]
    accuracies = [1 - report.error_before, *(1 - e for e in report.errors)]
    return np.array(fractions), np.array(accuracies)


def accuracy_at(report, fraction):
    """Return the validation accuracy at `fraction` removed, interpolated."""
    fractions, accuracies = accuracy_curve(report)
    return float(np.interp(fraction, fractions, accuracies))


def stopping_fraction(report, tolerance):
    """Return the fraction removed where prune with `tolerance` would stop."""
    fractions, accuracies = accuracy_curve(report)
    too_low = np.flatnonzero(accuracies < accuracies[0] - tolerance)
    last = too_low[0] - 1 if too_low.size else len(fractions) - 1
    return fractions[last]


def print_table(reports):
    """Print validation accuracy against the fraction removed for each method."""
    curves = {method: accuracy_curve(report) for method, report in reports.items()}
    print(f"{'removed':>8}  {'obd_val_acc':>11}  {'magnitude_val_acc':>17}")
    fractions = curves["obd"][0]
    for i, fraction in enumerate(fractions):
        obd, magnitude = curves["obd"][1][i], curves["magnitude"][1][i]
        print(f"{fraction:>8.4f}  {obd:>11.4f}  {magnitude:>17.4f}")


def plot_curves(reports, path, title):
    """Write validation accuracy against the fraction removed to a PNG at path."""
    # The object-oriented interface needs no display and leaves pyplot's global
    # state alone.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    axes = figure.subplots()
    for method, report in reports.items():
        fractions, accuracies = accuracy_curve(report)
        axes.plot(fractions, accuracies, marker=".", label=LABELS[method])
    axes.set_xlabel("fraction of weights removed")
    axes.set_ylabel("validation accuracy")
    axes.set_ylim(0, 1.02)
    axes.set_xlim(0, 1)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower left")
    axes.set_title(title)
    figure.savefig(path, dpi=120)


def run(args):
    """Train, prune by both methods, print and plot; return the exit code."""
    if importlib.util.find_spec("matplotlib") is None:
        print(
            "error: the plot needs matplotlib, which is not installed; "
            "install it with 'pip install matplotlib'",
            file=sys.stderr,
        )
        return 1
    mode = "quick" if args.quick else "full"
    X_train, y_train, X_val, y_val, X_test, y_test = load_digit_splits()
    # Every digit held out from training validates: one of 144 would move the
    # accuracy by 0.7 points, one of 504 by 0.2.
    X_val, y_val = np.vstack([X_val, X_test]), np.concatenate([y_val, y_test])
    data = (X_train, y_train, X_val, y_val)

    net = MLP(
        [X_train.shape[1], HIDDEN_UNITS, 10], seed=args.seed, n_threads=args.threads
    )
    net.fit(
        X_train,
        y_train,
        epochs=EPOCHS,
        learning_rate=LEARNING_RATE,
        momentum=MOMENTUM,
    )
    n_weights = sum(W.size for W in net.weights)
    print(
        f"digits: {len(X_train)} training, {len(X_val)} validation samples; "
        f"network {list(net.sizes)} ({n_weights} weights) trained "
        f"{EPOCHS} epochs; each step removes {STEP[mode]:g} of the "
        f"remaining weights, retrain_epochs={args.retrain_epochs}"
    )
    reports = {
        method: trace_pruning(net, method, data, STEP[mode], args.retrain_epochs)
        for method in METHODS
    }
    print_table(reports)
    for fraction in SUMMARY_FRACTIONS:
        obd, magnitude = (accuracy_at(reports[m], fraction) for m in METHODS)
        print(
            f"{fraction:.0%} removed: validation accuracy obd {obd:.4f}, "
            f"magnitude {magnitude:.4f}"
        )
    for method, report in reports.items():
        fraction = stopping_fraction(report, REPORTED_TOLERANCE)
        print(
            f"{method}: with tolerance {REPORTED_TOLERANCE:g}, pruning stops after "
            f"removing {fraction:.1%} of the weights"
        )

    title = f"digits, {list(net.sizes)}, retrain_epochs={args.retrain_epochs}"
    plot_curves(reports, args.output, title)
    print(f"saved {args.output}: validation accuracy against the fraction removed")
    return 0


def main(argv=None):
    """Parse argv (default: sys.argv[1:]), run the example; return the exit code."""
    return run(build_parser().parse_args(argv))
