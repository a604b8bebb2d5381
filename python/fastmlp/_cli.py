"""Command line: ``python -m fastmlp demo`` and one subcommand per example."""

import argparse
import contextlib
import importlib
import signal
import sys
import threading
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .classifier import MLPClassifier

# Digits pixels are integers from 0 to 16, so dividing by 16 maps them to [0, 1].
DIGITS_MAX_PIXEL = 16.0
# Shares of the digits data held out: the test split from the whole data set,
# the validation split from what remains for training.
TEST_FRACTION = 0.2
VALIDATION_FRACTION = 0.1
# Seed of both splits, fixed so that every run evaluates on the same samples.
SPLIT_SEED = 0

# The examples in fastmlp.examples, each a subcommand of the same name.
EXAMPLES = ("xor", "overfit", "approximate", "speed", "prune")


def build_parser():
    """Return the argument parser with the demo and the example subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m fastmlp",
        description="Train small multilayer perceptrons with fastmlp.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="train MLPClassifier on scikit-learn's digits (8x8 images, 10 classes)",
        description=(
            "Train fastmlp.MLPClassifier on scikit-learn's bundled digits data "
            "(no download), report loss and validation accuracy per epoch, then "
            "the test accuracy and the training throughput."
        ),
    )
    demo.add_argument(
        "--epochs",
        type=positive_int,
        default=30,
        help="number of passes over the training data",
    )
    demo.add_argument(
        "--hidden",
        type=positive_int,
        nargs="+",
        default=[128],
        help="units in each hidden layer, for example --hidden 128 64",
    )
    demo.add_argument(
        "--batch-size",
        type=positive_int,
        default=16,
        help="training samples per SGD step",
    )
    demo.add_argument(
        "--learning-rate",
        type=positive_float,
        default=0.1,
        help="SGD step size, passed as learning_rate_init",
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the initial weights and the shuffling (data splits stay fixed)",
    )
    add_threads_option(demo)

    # Imported here because the prune example imports helpers from this module.
    from . import examples

    for name in EXAMPLES:
        example = importlib.import_module(f".{name}", examples.__name__)
        summary = example.__doc__.split("\n\n")[0]
        command = commands.add_parser(
            name,
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
            help=summary.splitlines()[0].rstrip("."),
            description=example.__doc__,
        )
        example.add_arguments(command)
        command.set_defaults(run=example.run)
    return parser


def add_threads_option(parser):
    """Add --threads to a subcommand parser."""
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="number of OpenMP threads (None: OMP_NUM_THREADS, else all cores)",
    )


def positive_int(text):
    """Parse an integer >= 1 for argparse."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def positive_float(text):
    """Parse a float > 0 for argparse."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def load_digit_splits():
    """Return (X_train, y_train, X_val, y_val, X_test, y_test) of digits, in float32.

    Pixels are divided by their maximum, 16, so every feature lies in [0, 1].
    Both splits are stratified, so each class keeps its share.
    """
    X, y = load_digits(return_X_y=True)
    X = (X / DIGITS_MAX_PIXEL).astype(np.float32)
    X_rest, X_test, y_rest, y_test = train_test_split(
        X, y, test_size=TEST_FRACTION, stratify=y, random_state=SPLIT_SEED
    )
    X_train, X_val, y_train, y_val = train_test_split(
        X_rest,
        y_rest,
        test_size=VALIDATION_FRACTION,
        stratify=y_rest,
        random_state=SPLIT_SEED,
    )
    return X_train, y_train, X_val, y_val, X_test, y_test


class EpochInterrupt:
    """A SIGINT handler that lets the current epoch finish.

    The first Ctrl-C only sets ``requested``, which the training loop checks
    after each epoch. Without this handler ``partial_fit`` would catch the
    KeyboardInterrupt, warn and return, as scikit-learn's estimators do, so the
    loop would never stop. A second Ctrl-C restores the default action and ends
    the process at once.
    """

    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        if self.requested:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.raise_signal(signal.SIGINT)
        self.requested = True
        print(
            "Ctrl-C: stopping after this epoch (press again to quit at once)",
            file=sys.stderr,
            flush=True,
        )


@contextlib.contextmanager
def stop_at_epoch_end_on_ctrl_c():
    """Install an EpochInterrupt for SIGINT while the block runs; yield it.

    Only the main thread can set signal handlers. In other threads Ctrl-C keeps
    its default behaviour, and ``requested`` stays False.
    """
    handler = EpochInterrupt()
    if threading.current_thread() is not threading.main_thread():
        yield handler
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield handler
    finally:
        signal.signal(signal.SIGINT, previous)


def is_divergence(error):
    """Return True for the ValueError the estimators raise when SGD diverges."""
    message = str(error)
    return "diverged" in message or "non-finite weights" in message


def run_demo(args):
    """Train on digits one epoch at a time, printing progress; return the exit code.

    Ctrl-C stops training after the current epoch and still prints the test
    accuracy and the throughput. Divergence prints one line to stderr and
    returns 1.
    """
    X_train, y_train, X_val, y_val, X_test, y_test = load_digit_splits()
    classes = np.unique(y_train)
    clf = MLPClassifier(
        hidden_layer_sizes=tuple(args.hidden),
        solver="sgd",
        batch_size=args.batch_size,
        learning_rate_init=args.learning_rate,
        random_state=args.seed,
        n_threads=args.threads,
    )
    print(
        f"digits: {len(X_train)} training, {len(X_val)} validation, "
        f"{len(X_test)} test samples; hidden layers {tuple(args.hidden)}, "
        f"batch size {args.batch_size}, learning rate {args.learning_rate:g}"
    )
    print(f"{'epoch':>5}  {'loss':>8}  {'val_acc':>7}  {'elapsed_s':>9}")

    # The throughput counts only the partial_fit calls, while elapsed_s also
    # includes scoring the validation split after each epoch.
    training_seconds = 0.0
    epochs_done = 0
    loop_start = time.perf_counter()
    with stop_at_epoch_end_on_ctrl_c() as interrupt:
        while epochs_done < args.epochs:
            epoch = epochs_done + 1
            epoch_start = time.perf_counter()
            try:
                clf.partial_fit(X_train, y_train, classes=classes)
            except ValueError as error:
                if not is_divergence(error):
                    raise
                print(
                    f"error: SGD diverged in epoch {epoch} with learning rate "
                    f"{args.learning_rate:g} (the loss or the weights became NaN "
                    "or infinite); lower --learning-rate",
                    file=sys.stderr,
                )
                return 1
            training_seconds += time.perf_counter() - epoch_start
            epochs_done = epoch
            val_accuracy = clf.score(X_val, y_val)
            elapsed = time.perf_counter() - loop_start
            print(
                f"{epoch:>5}  {clf.loss_:>8.4f}  {val_accuracy:>7.4f}  {elapsed:>9.3f}"
            )
            # Checked after the epoch, so at least one epoch has results to show.
            if interrupt.requested:
                break

    if epochs_done < args.epochs:
        print(
            f"training interrupted by Ctrl-C after {epochs_done} of {args.epochs} "
            "epochs; results so far:"
        )
    samples_seen = len(X_train) * epochs_done
    print(f"test accuracy: {clf.score(X_test, y_test):.4f}")
    print(
        f"throughput: {samples_seen / training_seconds:,.0f} samples/s "
        f"({samples_seen} samples in {training_seconds:.3f} s of training)"
    )
    return 0


# Exit status of a program stopped by Ctrl-C, by the shell convention 128 + SIGINT.
EXIT_INTERRUPTED = 130


def main(argv=None):
    """Run the command named in argv (default: sys.argv[1:]); return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            return run_demo(args)
        return args.run(args)
    except ImportError as error:
        # An example without matplotlib: its message names the fix.
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted by Ctrl-C", file=sys.stderr)
        return EXIT_INTERRUPTED
