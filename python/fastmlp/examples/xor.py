"""XOR: a network without a hidden layer cannot learn it, a 2-2-1 network can.

A single logistic unit draws one straight line through the plane, and no line
puts (0, 1) and (1, 0) on one side and (0, 0) and (1, 1) on the other. Two tanh
hidden units each draw a line; the output unit combines the two half-planes
into the band that XOR needs. Gradient descent does not always find it: from
some starting points the 2-2-1 network settles in a local minimum that gets
three of the four patterns right.
"""

import numpy as np

from .._mlp import MLP
from ._common import (
    add_output_arguments,
    finish_figure,
    import_pyplot,
    run_from_command_line,
)

XOR_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
DEFAULT_OUTPUT = "xor.png"
# Full-batch steps; 2,000 at learning rate 0.5 and momentum 0.9 take a 2-2-1
# network from a good starting point to a loss below 1e-3.
EPOCHS = 2000
LEARNING_RATE = 0.5
MOMENTUM = 0.9
# Starting points tried for the 2-2-1 network, to show how often it succeeds.
N_SEEDS = 20
# Side of the grid of points at which the decision regions are drawn.
GRID_POINTS = 201


def add_arguments(parser):
    """Add the options of the xor example to an argparse parser."""
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the networks that are drawn"
    )
    add_output_arguments(parser, DEFAULT_OUTPUT)


def train(sizes, seed, epochs=EPOCHS):
    """Return a network of the given sizes trained on the four XOR patterns."""
    net = MLP(sizes, activation="tanh", output="logistic", dtype="float64", seed=seed)
    net.fit(
        XOR_INPUTS,
        XOR_TARGETS,
        epochs=epochs,
        batch_size=len(XOR_INPUTS),
        learning_rate=LEARNING_RATE,
        momentum=MOMENTUM,
        shuffle=False,
    )
    return net


def accuracy(net):
    """Return the share of XOR patterns the network classifies correctly."""
    predicted = net.forward(XOR_INPUTS)[:, 0] > 0.5
    return float(np.mean(predicted == XOR_TARGETS.astype(bool)))


def hidden_activations(net, X):
    """Return the tanh outputs of the first hidden layer for X."""
    W, b = net.weights[0], net.biases[0]
    return np.tanh(X @ W.T + b)


def print_truth_table(net):
    """Print inputs, target and output of each XOR pattern."""
    outputs = net.forward(XOR_INPUTS)[:, 0]
    print(f"{'x1':>3} {'x2':>3} {'target':>7} {'output':>7}")
    for (x1, x2), target, output in zip(XOR_INPUTS, XOR_TARGETS, outputs):
        print(f"{x1:>3.0f} {x2:>3.0f} {target:>7.0f} {output:>7.4f}")


def plot(linear, hidden, path):
    """Draw the outputs of both networks and of the two hidden units over the plane.

    Colour is the value of the unit. The black line is its decision boundary
    (output 0.5, hidden activation 0), drawn where the unit has one in view.
    """
    plt = import_pyplot()
    axis = np.linspace(-0.5, 1.5, GRID_POINTS)
    grid_x, grid_y = np.meshgrid(axis, axis)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    panels = [
        ("no hidden layer: output", linear.forward(grid)[:, 0], (0.0, 1.0)),
        ("2-2-1: output", hidden.forward(grid)[:, 0], (0.0, 1.0)),
    ]
    units = hidden_activations(hidden, grid)
    for unit in range(units.shape[1]):
        panels.append((f"2-2-1: hidden unit {unit + 1}", units[:, unit], (-1.0, 1.0)))

    figure, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 4.2))
    for ax, (title, values, (low, high)) in zip(axes, panels):
        values = values.reshape(grid_x.shape)
        ax.imshow(
            values,
            extent=(-0.5, 1.5, -0.5, 1.5),
            origin="lower",
            cmap="coolwarm",
            vmin=low,
            vmax=high,
        )
        middle = (low + high) / 2
        if values.min() < middle < values.max():
            ax.contour(grid_x, grid_y, values, levels=[middle], colors="black")
        for point, target in zip(XOR_INPUTS, XOR_TARGETS):
            ax.scatter(*point, marker="o" if target else "x", s=120, color="black")
        ax.set_title(title)
        ax.set_xlabel("x1")
        ax.set_ylabel("x2")
    figure.suptitle("XOR: o marks target 1, x target 0; blue low, red high")
    finish_figure(figure, path)


def run(args):
    """Train both networks, print what they learned and save the picture."""
    import_pyplot()  # fail before any training when matplotlib is missing
    epochs = EPOCHS // 4 if args.quick else EPOCHS
    linear = train([2, 1], args.seed, epochs)
    hidden = train([2, 2, 1], args.seed, epochs)
    print(f"no hidden layer (2-1): accuracy {accuracy(linear):.2f}")
    print_truth_table(linear)
    print(f"one hidden layer (2-2-1): accuracy {accuracy(hidden):.2f}")
    print_truth_table(hidden)

    n_seeds = N_SEEDS // 4 if args.quick else N_SEEDS
    solved = sum(
        accuracy(train([2, 2, 1], seed, epochs)) == 1.0 for seed in range(n_seeds)
    )
    print(
        f"2-2-1 learned XOR from {solved} of {n_seeds} starting points "
        f"(seeds 0-{n_seeds - 1})"
    )
    if solved < n_seeds:
        print(
            "from the others it stopped in a local minimum with 3 of 4 patterns right"
        )
    plot(linear, hidden, args.output)
    print(f"saved {args.output}: outputs of both networks and of the hidden units")
    return 0


def main(argv=None):
    """Run the example from the command line; return the exit code."""
    return run_from_command_line(__doc__, add_arguments, run, argv)
