"""Universal approximation: one hidden layer fits a smooth curve as it widens.

A network with one hidden layer of tanh units can approximate any continuous
function on a bounded interval as closely as wanted, given enough units
(Cybenko 1989; Hornik, Stinchcombe and White 1989). This example fits
f(x) = sin(3 pi x) exp(-x^2) + x / 2 on [-1, 1] with 1 to 64 hidden units and
measures the error on [-1, 1] and beyond it, on [1, 1.5]. The theorem
promises nothing about points outside the training interval, and there the fits part
from f whatever the width. Past about 8 units the error inside stops falling:
what remains is set by how far L-BFGS gets within its iteration limit.
"""

import numpy as np

from .._mlp import MLP
from ._common import (
    add_output_arguments,
    finish_figure,
    import_pyplot,
    run_from_command_line,
)

DEFAULT_OUTPUT = "approximate.png"
TRAINING_POINTS = 200
# L-BFGS iterations per fit; the widest networks reach an error near 0.01 well
# before the limit. tol=0 lets them run until the limit or convergence.
MAX_ITERATIONS = {"full": 3000, "quick": 1000}
WIDTHS = {"full": (1, 2, 4, 8, 16, 64), "quick": (1, 4, 16)}
# Each width keeps the best of several starting points, because a narrow
# network's fit depends on where its few units start.
SEEDS = {"full": 3, "quick": 1}
INSIDE = (-1.0, 1.0)
OUTSIDE = (1.0, 1.5)


def add_arguments(parser):
    """Add the options of the approximate example to an argparse parser."""
    add_output_arguments(parser, DEFAULT_OUTPUT)


def target(x):
    """Return the function the networks learn: sin(3 pi x) exp(-x^2) + x / 2."""
    return np.sin(3 * np.pi * x) * np.exp(-(x**2)) + x / 2


def rms_error(net, low, high):
    """Return the root-mean-square error of net against target on [low, high]."""
    x = np.linspace(low, high, 1001)[:, None]
    return float(np.sqrt(np.mean((net.forward(x) - target(x)) ** 2)))


def fit(width, seed, max_iterations):
    """Return a 1-width-1 tanh network fitted to target on INSIDE by L-BFGS."""
    x = np.linspace(*INSIDE, TRAINING_POINTS)[:, None]
    net = MLP(
        [1, width, 1], activation="tanh", output="identity", dtype="float64", seed=seed
    )
    net.fit(x, target(x), optimizer="lbfgs", epochs=max_iterations, tol=0.0)
    return net


def best_fit(width, n_seeds, max_iterations):
    """Return the fit with the lowest error inside the interval over n_seeds starts."""
    fits = [fit(width, seed, max_iterations) for seed in range(n_seeds)]
    return min(fits, key=lambda net: rms_error(net, *INSIDE))


def plot(nets, path):
    """Draw every fit against the target, and the errors against the width."""
    plt = import_pyplot()
    figure, (curves, errors) = plt.subplots(1, 2, figsize=(12, 4.5))
    x = np.linspace(-1.5, 1.5, 601)[:, None]
    curves.plot(x, target(x), color="black", linewidth=2.5, label="f(x)")
    for width, net in nets.items():
        label = f"{width} unit" if width == 1 else f"{width} units"
        curves.plot(x, net.forward(x), linewidth=1.2, label=label)
    curves.axvspan(*INSIDE, color="0.92", zorder=0, label="training interval")
    curves.set_ylim(-2.5, 2.5)
    curves.set_xlabel("x")
    curves.set_title("fits by width")
    curves.legend(fontsize=8, loc="lower right")

    widths = list(nets)
    inside = [rms_error(net, *INSIDE) for net in nets.values()]
    outside = [rms_error(net, *OUTSIDE) for net in nets.values()]
    errors.loglog(widths, inside, marker="o", label="on [-1, 1] (training interval)")
    errors.loglog(widths, outside, marker="s", label="on [1, 1.5] (beyond it)")
    errors.set_xlabel("hidden units")
    errors.set_ylabel("root-mean-square error")
    errors.set_title("error against width")
    errors.legend()
    finish_figure(figure, path)


def run(args):
    """Fit every width, print the errors inside and beyond [-1, 1], save the plot."""
    import_pyplot()  # fail before any training when matplotlib is missing
    mode = "quick" if args.quick else "full"
    print(
        f"f(x) = sin(3 pi x) exp(-x^2) + x/2 from {TRAINING_POINTS} points on [-1, 1]; "
        f"one tanh hidden layer, L-BFGS, best of {SEEDS[mode]} seed(s) per width"
    )
    nets = {}
    print(f"{'units':>5} {'rmse [-1,1]':>12} {'rmse [1,1.5]':>13}")
    for width in WIDTHS[mode]:
        nets[width] = best_fit(width, SEEDS[mode], MAX_ITERATIONS[mode])
        inside, outside = (
            rms_error(nets[width], *INSIDE),
            rms_error(nets[width], *OUTSIDE),
        )
        print(f"{width:>5} {inside:>12.4f} {outside:>13.4f}")
    plot(nets, args.output)
    print(f"saved {args.output}: the fits and their errors against the width")
    return 0


def main(argv=None):
    """Run the example from the command line; return the exit code."""
    return run_from_command_line(__doc__, add_arguments, run, argv)
