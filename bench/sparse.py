"""Forward throughput of a pruned 784-256-128-10 MLP: dense against sparse product.

Every layer keeps the same share of its weights (the density), chosen at
random. For each density the script times ``forward`` with the product of the
pruned layers forced dense and forced sparse, at batch 1 and 10,000, and
shows which product ``forward`` picks by itself. The switch-over density
densities in cpp/engine/sparse.hpp come from such tables.

Run ``python bench/sparse.py [--quick|--full] [--threads N]``.
"""

import numpy as np
from harness import (
    Report,
    float64_reference,
    format_number,
    format_range,
    markdown_table,
    seeded_rng,
    start_benchmark,
    thread_limits,
    time_interleaved,
)
from train import SIZES

import fastmlp

BATCH_SIZES = (1, 10_000)
QUICK_DENSITIES = (0.5, 0.2, 0.1, 0.05, 0.02)
FULL_DENSITIES = (0.7, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1, 0.07, 0.05, 0.03, 0.02, 0.01)
PATHS = ("dense", "sparse")

COLUMNS = [
    "batch",
    "density",
    "dense samples/s",
    "dense min–max",
    "sparse samples/s",
    "sparse min–max",
    "sparse ÷ dense",
    "forward picks",
    "max abs diff dense",
    "max abs diff sparse",
]


def pruned_network(density, seed=0):
    """Return a float32 MLP whose layers each keep `density` of their weights."""
    net = fastmlp.MLP(SIZES, seed=seed)
    rng = seeded_rng(seed)
    net.biases = [rng.uniform(-0.1, 0.1, n) for n in SIZES[1:]]
    masks = []
    for W in net.weights:
        keep = np.zeros(W.size, dtype=bool)
        keep[rng.permutation(W.size)[: max(1, round(density * W.size))]] = True
        masks.append(keep.reshape(W.shape))
    net.weight_masks = masks
    return net


def max_differences(net, X):
    """Return {path: max abs difference from a float64 reference} for both paths."""
    ref = float64_reference(net)
    want = ref.forward(X.astype(np.float64))
    return {
        path: float(np.max(np.abs(net._core.forward_with_path(X, path, 0) - want)))
        for path in PATHS
    }


def forward_runner(net, X, path):
    """Return run(units) that calls forward on X with `path` until `units` rows."""

    def run(units):
        calls = max(1, -(-units // len(X)))
        for _ in range(calls):
            net._core.forward_with_path(X, path, 0)
        return calls * len(X)

    return run


def max_density(batch_size):
    """Return the density up to which forward picks the sparse product."""
    kernels = fastmlp.config()["float32"]
    if batch_size < kernels["sparse_block_rows"]:
        return kernels["sparse_max_density_small_batch"]
    return kernels["sparse_max_density"]


def benchmark_densities(densities, batch_size, repeats, target_seconds):
    """Return one table row per density at one batch size."""
    X = seeded_rng(1).random((batch_size, SIZES[0]), dtype=np.float32)
    rows = []
    for density in densities:
        net = pruned_network(density)
        differences = max_differences(net, X)
        runs = {path: forward_runner(net, X, path) for path in PATHS}
        m = time_interleaved(runs, repeats, target_seconds)
        rows.append(
            [
                f"{batch_size:,}",
                density,
                format_number(m["dense"].rate),
                format_range(*m["dense"].rate_range),
                format_number(m["sparse"].rate),
                format_range(*m["sparse"].rate_range),
                format_number(m["sparse"].rate / m["dense"].rate),
                "sparse" if density <= max_density(batch_size) else "dense",
                format_number(differences["dense"]),
                format_number(differences["sparse"]),
            ]
        )
    return rows


def run_sparse(report, quick, threads):
    """Time both products at every density and batch size; add the table."""
    densities = QUICK_DENSITIES if quick else FULL_DENSITIES
    repeats, target = (5, 0.05) if quick else (7, 0.2)
    rows = []
    with thread_limits(threads):
        for batch_size in BATCH_SIZES:
            rows += benchmark_densities(densities, batch_size, repeats, target)
    thresholds = " and ".join(
        f"{max_density(batch_size)} at batch {batch_size:,}"
        for batch_size in BATCH_SIZES
    )
    report.add(
        f"Forward pass of a pruned {'-'.join(map(str, SIZES))} MLP (float32, "
        f"{threads} threads)",
        markdown_table(COLUMNS, rows),
        [
            "density: share of each layer's weights that is kept, chosen at random.",
            f"Median of {repeats} repeats of about {target} s each, products "
            "interleaved.",
            "forward picks: the product MLP.forward uses at this density "
            f"(sparse up to {thresholds}).",
            "max abs diff: output probabilities against the float64 reference "
            "with the same float32 weights, before timing.",
        ],
    )


def add_threads_argument(parser):
    parser.add_argument(
        "--threads",
        type=int,
        default=fastmlp.config()["threads"],
        help="OpenMP threads (default: OpenMP's current maximum)",
    )


def main():
    args = start_benchmark(__doc__, add_threads_argument)
    run_sparse(Report(), not args.full, args.threads)


if __name__ == "__main__":
    main()
