"""Overfitting and three cures: L2 weight decay, L1 and dropout.

A network with 512 hidden units trained on 150 handwritten digits drives its
training loss towards zero while the loss on 600 held-out digits stays far
higher: it memorises. Each regulariser narrows the gap between the two. L2
shrinks every weight in proportion to its size. L1 pulls every weight towards
zero at a constant rate, so the weights the data does not need gather in a
spike around 0; plain SGD steps across 0 rather than landing on it. Dropout
trains on random halves of the hidden layer, so no unit can rely on another.
"""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from .._mlp import MLP
from ._common import (
    add_output_arguments,
    finish_figure,
    import_pyplot,
    run_from_command_line,
)

DEFAULT_OUTPUT = "overfit.png"
# Digits pixels are integers from 0 to 16, so dividing by 16 maps them to [0, 1].
DIGITS_MAX_PIXEL = 16.0
TRAINING_SAMPLES = 150
VALIDATION_SAMPLES = 600
HIDDEN_UNITS = 512
BATCH_SIZE = 10
LEARNING_RATE = 0.01
MOMENTUM = 0.9
# The settings compared. Strengths were picked by trying a few values on this
# split; each keeps validation accuracy at or above the unregularised one.
REGULARISERS = {
    "none": {},
    "L2 (l2=3e-3)": {"l2": 3e-3},
    "L1 (l1=3e-4)": {"l1": 3e-4},
    "dropout (0.2 input, 0.5 hidden)": {"dropout": [0.2, 0.5]},
}
# Epochs and seeds of the full run and of --quick. The gaps are averaged over
# the seeds because one run's gap moves by about 0.02 from seed to seed.
FULL_EPOCHS, FULL_SEEDS = 200, 3
QUICK_EPOCHS, QUICK_SEEDS = 60, 2
# Weights closer to 0 than this count as pruned away by L1 in the histograms'
# titles: a thousandth of the initial weights' bound, sqrt(6 / 64) = 0.31.
NEAR_ZERO = 3e-4


def add_arguments(parser):
    """Add the options of the overfit example to an argparse parser."""
    add_output_arguments(parser, DEFAULT_OUTPUT)


def load_split():
    """Return (X_train, y_train, X_val, y_val): a small, stratified digits split."""
    X, y = load_digits(return_X_y=True)
    X = (X / DIGITS_MAX_PIXEL).astype(np.float32)
    X_train, X_val, y_train, y_val = train_test_split(
        X,
        y,
        train_size=TRAINING_SAMPLES,
        test_size=VALIDATION_SAMPLES,
        random_state=0,
        stratify=y,
    )
    return X_train, y_train, X_val, y_val


def losses(net, data):
    """Return the (training, validation) mean cross-entropy of net.

    No penalty and no dropout enter it, so every setting is measured alike.
    """
    X_train, y_train, X_val, y_val = data
    return net.gradients(X_train, y_train)[0], net.gradients(X_val, y_val)[0]


def train(data, settings, epochs, seed, record_curves):
    """Train one network; return it and its losses per epoch (or the last only)."""
    net = MLP([data[0].shape[1], HIDDEN_UNITS, 10], dtype="float32", seed=seed)
    curves = []

    def record(epoch, loss):
        curves.append(losses(net, data))

    net.fit(
        data[0],
        data[1],
        epochs=epochs,
        batch_size=BATCH_SIZE,
        learning_rate=LEARNING_RATE,
        momentum=MOMENTUM,
        callback=record if record_curves else None,
        **settings,
    )
    if not record_curves:
        curves.append(losses(net, data))
    return net, np.array(curves)


def compare(epochs, n_seeds):
    """Train every setting from n_seeds seeds; return a dict of results per setting.

    Each result contains ``curves`` and ``net`` of seed 0, and ``gap``,
    ``train``, ``val`` and ``accuracy`` averaged over the seeds at the last epoch.
    """
    data = load_split()
    X_val, y_val = data[2], data[3]
    results = {}
    for name, settings in REGULARISERS.items():
        finals, accuracies = [], []
        for seed in range(n_seeds):
            net, curves = train(data, settings, epochs, seed, record_curves=seed == 0)
            if seed == 0:
                results[name] = {"curves": curves, "net": net}
            finals.append(curves[-1])
            accuracies.append(np.mean(net.forward(X_val).argmax(axis=1) == y_val))
        train_loss, val_loss = np.mean(finals, axis=0)
        results[name].update(
            train=train_loss,
            val=val_loss,
            gap=val_loss - train_loss,
            accuracy=float(np.mean(accuracies)),
        )
    return results


def plot(results, path):
    """Draw the loss curves and the first layer's weight histogram of each setting."""
    plt = import_pyplot()
    figure, axes = plt.subplots(2, len(results), figsize=(4.2 * len(results), 7.5))
    for column, (name, result) in enumerate(results.items()):
        curves = result["curves"]
        epochs = np.arange(1, len(curves) + 1)
        ax = axes[0, column]
        ax.plot(epochs, curves[:, 0], label="training")
        ax.plot(epochs, curves[:, 1], label="validation")
        ax.set_yscale("log")
        ax.set_title(f"{name}\nmean gap {result['gap']:.3f}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("cross-entropy")
        ax.legend()

        weights = result["net"].weights[0].ravel()
        ax = axes[1, column]
        ax.hist(weights, bins=80, range=(-0.4, 0.4), color="gray")
        ax.set_yscale("log")
        near_zero = np.mean(np.abs(weights) < NEAR_ZERO)
        ax.set_title(f"first-layer weights, {near_zero:.0%} within {NEAR_ZERO:g} of 0")
        ax.set_xlabel("weight")
    finish_figure(figure, path)


def run(args):
    """Train the four settings, print the gaps and save the picture."""
    import_pyplot()  # fail before any training when matplotlib is missing
    epochs, n_seeds = (
        (QUICK_EPOCHS, QUICK_SEEDS) if args.quick else (FULL_EPOCHS, FULL_SEEDS)
    )
    print(
        f"digits: {TRAINING_SAMPLES} training and {VALIDATION_SAMPLES} validation "
        f"samples, 64-{HIDDEN_UNITS}-10 relu network, {epochs} epochs, mean of "
        f"{n_seeds} seeds"
    )
    results = compare(epochs, n_seeds)
    print(f"{'setting':<32} {'train':>7} {'val':>7} {'gap':>7} {'val_acc':>7}")
    for name, result in results.items():
        print(
            f"{name:<32} {result['train']:>7.4f} {result['val']:>7.4f} "
            f"{result['gap']:>7.4f} {result['accuracy']:>7.4f}"
        )
    plot(results, args.output)
    print(f"saved {args.output}: loss curves and first-layer weight histograms")
    return 0


def main(argv=None):
    """Run the example from the command line; return the exit code."""
    return run_from_command_line(__doc__, add_arguments, run, argv)
