"""The GEMM alone: fastmlp._core.matmul against NumPy's matmul.

``_core.matmul(A, B, transpose_a, transpose_b, n_threads)`` returns op(A) @ op(B)
in float32 or float64. Shapes: the three products of each layer of the
784-256-128-10 network (forward Z = X W^T, dW = dZ^T X, dX = dZ W) at batch 128
and 1024, and square matrices of 1024 and 2048.

Run ``python bench/gemm.py [--quick|--full]`` for this table alone.
"""

import numpy as np
from harness import (
    Report,
    format_number,
    format_range,
    markdown_table,
    seeded_rng,
    start_benchmark,
    thread_limits,
    time_interleaved,
)
from train import SIZES

from fastmlp import _core

THREAD_COUNTS = (1, 2)
COLUMNS = [
    "dtype",
    "product",
    "m × k × n",
    "threads",
    "fastmlp s/call",
    "fastmlp GFLOP/s",
    "fastmlp min–max",
    "NumPy GFLOP/s",
    "NumPy min–max",
    "fastmlp ÷ NumPy",
    "% FMA peak",
    "max abs diff",
]


def layer_products(batch_size):
    """Return (label, A shape, B shape, transpose_a, transpose_b) of each layer."""
    products = []
    for layer, (n_in, n_out) in enumerate(zip(SIZES, SIZES[1:]), start=1):
        n = batch_size
        products += [
            (f"layer {layer} forward X W^T", (n, n_in), (n_out, n_in), False, True),
            (f"layer {layer} dW = dZ^T X", (n, n_out), (n, n_in), True, False),
            (f"layer {layer} dX = dZ W", (n, n_out), (n_out, n_in), False, False),
        ]
    return products


def square_products(sizes):
    """Return (label, A shape, B shape, False, False) for square products."""
    return [(f"square {s}", (s, s), (s, s), False, False) for s in sizes]


def products_for(quick):
    """Return the products of --quick (reduced) or of the full sweep."""
    if quick:
        return layer_products(128)[:3]
    return layer_products(128) + layer_products(1024) + square_products([1024, 2048])


def _operand(array, transposed):
    return array.T if transposed else array


def benchmark_product(product, dtype, threads, repeats, target_seconds):
    """Check fastmlp against NumPy on one product, then time both; return a dict."""
    label, a_shape, b_shape, transpose_a, transpose_b = product
    rng = seeded_rng(4)
    A = rng.standard_normal(a_shape).astype(dtype)
    B = rng.standard_normal(b_shape).astype(dtype)
    a, b = _operand(A, transpose_a), _operand(B, transpose_b)
    m, k = a.shape
    n = b.shape[1]

    def fastmlp_product():
        return _core.matmul(
            A, B, transpose_a=transpose_a, transpose_b=transpose_b, n_threads=threads
        )

    with thread_limits(threads):
        difference = float(np.max(np.abs(fastmlp_product() - a @ b)))
        runs = {
            "fastmlp": _repeat_calls(fastmlp_product),
            "numpy": _repeat_calls(lambda: a @ b),
        }
        measurements = time_interleaved(runs, repeats, target_seconds)
    return {
        "label": label,
        "dtype": np.dtype(dtype).name,
        "mkn": (m, k, n),
        "threads": threads,
        "flops": 2 * m * k * n,
        "measurements": measurements,
        "difference": difference,
    }


def _repeat_calls(product):
    def run(units):
        for _ in range(units):
            product()
        return units

    return run


def benchmark_gemm(products, dtypes, repeats, target_seconds):
    """Return one result dict per product, dtype and thread count."""
    return [
        benchmark_product(product, dtype, threads, repeats, target_seconds)
        for dtype in dtypes
        for product in products
        for threads in THREAD_COUNTS
    ]


def gemm_rows(results, peaks):
    """Return one table row per result, in COLUMNS order."""
    rows = []
    for r in results:
        ours, numpy = r["measurements"]["fastmlp"], r["measurements"]["numpy"]
        gflops = r["flops"] * 1e-9
        peak = peaks.get(r["threads"])
        if peak is not None and r["dtype"] == "float64":
            peak /= 2
        rows.append(
            [
                r["dtype"],
                r["label"],
                " × ".join(str(d) for d in r["mkn"]),
                r["threads"],
                format_number(ours.median_seconds / ours.units),
                format_number(ours.rate * gflops),
                format_range(*(x * gflops for x in ours.rate_range)),
                format_number(numpy.rate * gflops),
                format_range(*(x * gflops for x in numpy.rate_range)),
                format_number(ours.rate / numpy.rate),
                format_number(100 * ours.rate * gflops / peak if peak else None),
                format_number(r["difference"]),
            ]
        )
    return rows


def run_gemm(report, peaks, quick):
    """Time the GEMM on every product and add the table to report."""
    repeats, target = (5, 0.02) if quick else (5, 0.1)
    results = benchmark_gemm(products_for(quick), [np.float32], repeats, target)
    float64_products = square_products([1024]) if quick else products_for(quick)
    results += benchmark_gemm(float64_products, [np.float64], repeats, target)
    notes = [
        (
            "GFLOP/s = 2 m k n / seconds for C (m × n) = op(A) (m × k) op(B) (k × n); "
            f"median of {repeats} repeats of about {target} s each, the two contenders "
            "interleaved. NumPy multiplies the same arrays with .T views, so it passes "
            "the transposes to BLAS without copying."
        ),
        (
            "Inputs are standard normal; max abs diff is between fastmlp and NumPy in "
            "the same dtype, checked before timing (entries grow like sqrt(k))."
        ),
        (
            "% FMA peak: fastmlp's GFLOP/s over the measured float32 peak at that "
            "thread count (half of it for float64)."
        ),
    ]
    report.add(
        "GEMM: fastmlp._core.matmul against NumPy",
        markdown_table(COLUMNS, gemm_rows(results, peaks)),
        notes,
    )
    return results


def main():
    args = start_benchmark(__doc__)
    from fma_peak import measure_peaks

    run_gemm(Report(), measure_peaks()["peaks"], not args.full)


if __name__ == "__main__":
    main()
