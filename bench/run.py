"""Run every fastmlp benchmark and print the tables as Markdown.

    python bench/run.py            # same as --quick
    python bench/run.py --quick    # reduced set: under a minute, 2 idle cores
    python bench/run.py --full     # every case; writes docs/benchmarks.md and
                                   # docs/benchmarks_throughput.png

The process restarts itself once without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE
(see harness.restart_without_openblas_overrides) unless --keep-openblas-env is
given. Speed is never asserted: the output is a record, not a test.
"""

import contextlib
import datetime
import os
import sys
import time
from pathlib import Path

from fma_peak import add_to_report, measure_peaks
from gemm import run_gemm
from harness import (
    Report,
    format_number,
    machine_header,
    parse_arguments,
)
from inference import run_inference
from targets import add_targets_section
from train import LABELS, THREAD_COUNTS, run_float64, run_training
from xor import run_xor

DOCS = Path(__file__).resolve().parent.parent / "docs"
RECORD = DOCS / "benchmarks.md"
PLOT = DOCS / "benchmarks_throughput.png"
PLOTTED = ("fastmlp", "reference", "torch", "sklearn", "gemm_only")


@contextlib.contextmanager
def stopwatch(section):
    """Print the wall time of the block to stderr, keeping stdout for the tables."""
    start = time.perf_counter()
    yield
    print(
        f"{section}: {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True
    )


def describe_peaks(peaks):
    """Return the FMA peaks as 'N thread(s) X GFLOP/s' items."""
    return ", ".join(
        f"{threads} thread(s) {format_number(peak)} GFLOP/s"
        for threads, peak in peaks.items()
    )


def plot_throughput(cases, path):
    """Write a log-log plot of training samples/s against batch size.

    One line per contender and thread count, with min–max error bars.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5.5))
    colors = dict(zip(PLOTTED, ["C0", "C1", "C2", "C3", "0.4"]))
    for name in PLOTTED:
        for threads in THREAD_COUNTS:
            points = [
                (c.batch_size, c.measurements[name])
                for c in cases
                if c.threads == threads and name in c.measurements
            ]
            if not points:
                continue
            batch = [b for b, _ in points]
            rate = [m.rate for _, m in points]
            low = [m.rate - m.rate_range[0] for _, m in points]
            high = [m.rate_range[1] - m.rate for _, m in points]
            axes.errorbar(
                batch,
                rate,
                yerr=[low, high],
                color=colors[name],
                linestyle="-" if threads == max(THREAD_COUNTS) else "--",
                marker="o" if threads == max(THREAD_COUNTS) else "s",
                capsize=3,
                label=f"{LABELS[name]}, {threads} thread{'s' if threads > 1 else ''}",
            )
    axes.set_xscale("log", base=2)
    batch_sizes = sorted({case.batch_size for case in cases})
    axes.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
    axes.set_yscale("log")
    axes.set_xlabel("batch size (samples per SGD step)")
    axes.set_ylabel("training samples/s (median, bars: min–max)")
    axes.set_title("784-256-128-10 MLP, float32, dropout 0.2, L2 1e-4")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_record(header, report, cases, seconds):
    """Write docs/benchmarks.md and the throughput plot beside it."""
    DOCS.mkdir(exist_ok=True)
    plot_throughput(cases, PLOT)
    today = datetime.date.today().isoformat()
    intro = [
        "# Benchmarks",
        "",
        (
            f"Recorded on {today} by `python bench/run.py --full` ({seconds / 60:.1f} "
            "minutes). Absolute figures depend on the machine and on what else runs "
            "on it, so the ratios between contenders measured in the same run are "
            "the figures to compare. Rerun the command to record another machine."
        ),
        "",
        *header,
        "",
        f"![Training samples/s against batch size]({PLOT.name})",
        "",
    ]
    RECORD.write_text("\n".join(intro) + "\n" + report.markdown())


def main():
    args = parse_arguments(__doc__)
    quick = not args.full
    start = time.perf_counter()
    header = machine_header()
    print("\n".join(header) + "\n", flush=True)

    report = Report()
    with stopwatch("FMA peak"):
        peaks = measure_peaks(seconds=0.05 if quick else 0.1, runs=7 if quick else 9)
        add_to_report(report, peaks)
    with stopwatch("training"):
        cases = run_training(report, peaks["peaks"], quick)
    with stopwatch("inference"):
        inference = run_inference(report, peaks["peaks"], quick)
    with stopwatch("GEMM"):
        run_gemm(report, peaks["peaks"], quick)
    with stopwatch("XOR"):
        xor = run_xor(report, quick)
    with stopwatch("float64 training"):
        float64_cases = run_float64(report, peaks["peaks"], quick)

    seconds = time.perf_counter() - start
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    peaks_at_end = measure_peaks(seconds=0.05, runs=7)["peaks"]
    report.add(
        "Run conditions",
        f"Load average at the end (1, 5, 15 min): {load}; wall time {seconds:.0f} s.",
        [
            (
                f"FMA peak at the start: {describe_peaks(peaks['peaks'])}; measured "
                f"again at the end: {describe_peaks(peaks_at_end)}. A peak far below "
                "the single-thread peak times the thread count means other "
                "processes took CPU time, and the figures of that thread count are "
                "then too low (and the percentages of the peak too high)."
            ),
            (
                "The machine has 2 cores: any other busy process makes the 2-thread "
                "figures erratic, because OpenMP and OpenBLAS worker threads spin "
                "while they wait for each other, and the min–max ranges show it."
            ),
        ],
    )
    add_targets_section(report, cases, float64_cases, inference, xor, peaks["peaks"])
    if args.full:
        write_record(header, report, cases, seconds)
        print(f"wrote {RECORD} and {PLOT}")
    print(f"benchmarks finished in {seconds:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
