"""Training speed against batch size: fastmlp against its NumPy reference.

Both train the same 784-256-128-10 relu network with softmax output on the
same synthetic data by SGD, one epoch at a time, and the example prints and
plots samples per second for each batch size. Small batches show the cost of
each step outside the arithmetic (Python calls, allocations), large ones the
speed of the matrix products. The figures are for this machine as it is
loaded now; bench/ in the source tree has the careful side-by-side
benchmarks.
"""

import os
import time

import numpy as np

from .. import reference
from .._cli import positive_int
from .._mlp import MLP
from ._common import (
    add_output_arguments,
    finish_figure,
    import_pyplot,
    run_from_command_line,
)

DEFAULT_OUTPUT = "speed.png"
SIZES = [784, 256, 128, 10]
BATCH_SIZES = {"full": (1, 8, 32, 128, 512), "quick": (1, 32, 512)}
# Samples per timed epoch, chosen so that the reference's slowest case (batch
# size 1) takes well under a second.
SAMPLES = {"full": 2048, "quick": 512}
REPEATS = {"full": 3, "quick": 1}
LEARNING_RATE = 0.01
# Pause before each timed run. After a NumPy product on several threads,
# OpenBLAS's idle workers spin for about 0.1 s (measured on a 2-core machine)
# and halve the speed of a two-thread fastmlp fit started meanwhile.
SETTLE_SECONDS = 0.15


def add_arguments(parser):
    """Add the options of the speed example to an argparse parser."""
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="OpenMP threads of fastmlp (default: OMP_NUM_THREADS, else all cores)",
    )
    add_output_arguments(parser, DEFAULT_OUTPUT)


def synthetic_data(n_samples):
    """Return float32 inputs in [0, 1) and class labels, from a fixed seed."""
    rng = np.random.default_rng(0)
    X = rng.random((n_samples, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], n_samples)
    return X, y


def samples_per_second(model, X, y, batch_size, repeats):
    """Return the median throughput of one-epoch fits of model over repeats."""
    # One untimed epoch first, so allocation and warm-up stay out of the timing.
    model.fit(X, y, epochs=1, batch_size=batch_size, learning_rate=LEARNING_RATE)
    time.sleep(SETTLE_SECONDS)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(X, y, epochs=1, batch_size=batch_size, learning_rate=LEARNING_RATE)
        seconds.append(time.perf_counter() - start)
    return len(X) / float(np.median(seconds))


def measure(batch_sizes, n_samples, repeats, threads):
    """Return {batch_size: (fastmlp samples/s, reference samples/s)}."""
    X, y = synthetic_data(n_samples)
    results = {}
    for batch_size in batch_sizes:
        fast = MLP(SIZES, dtype="float32", seed=0, n_threads=threads)
        slow = reference.MLP(SIZES, dtype="float32", seed=0)
        results[batch_size] = (
            samples_per_second(fast, X, y, batch_size, repeats),
            samples_per_second(slow, X, y, batch_size, repeats),
        )
    return results


def plot(results, path):
    """Draw throughput against batch size for both implementations."""
    plt = import_pyplot()
    figure, ax = plt.subplots(figsize=(6.5, 4.5))
    batch_sizes = list(results)
    ax.loglog(
        batch_sizes, [r[0] for r in results.values()], marker="o", label="fastmlp"
    )
    ax.loglog(
        batch_sizes,
        [r[1] for r in results.values()],
        marker="s",
        label="fastmlp.reference (NumPy)",
    )
    ax.set_xlabel("batch size")
    ax.set_ylabel("training samples per second")
    ax.set_title("SGD on a 784-256-128-10 network, float32")
    ax.legend()
    finish_figure(figure, path)


def run(args):
    """Time both implementations at each batch size, print a table, save the plot."""
    import_pyplot()  # fail before any training when matplotlib is missing
    mode = "quick" if args.quick else "full"
    print(
        f"network {'-'.join(map(str, SIZES))}, {SAMPLES[mode]} synthetic samples per "
        f"epoch, median of {REPEATS[mode]} epoch(s), {os.cpu_count()} CPUs"
    )
    results = measure(BATCH_SIZES[mode], SAMPLES[mode], REPEATS[mode], args.threads)
    print(f"{'batch':>5} {'fastmlp/s':>12} {'reference/s':>12} {'ratio':>7}")
    for batch_size, (fast, slow) in results.items():
        print(f"{batch_size:>5} {fast:>12,.0f} {slow:>12,.0f} {fast / slow:>7.1f}")
    plot(results, args.output)
    print(f"saved {args.output}: samples per second against batch size")
    return 0


def main(argv=None):
    """Run the example from the command line; return the exit code."""
    return run_from_command_line(__doc__, add_arguments, run, argv)
