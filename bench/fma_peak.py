"""Measure the float32 FMA peak of this CPU, on 1 and 2 cores.

Compiles fma_peak.c with the system C compiler (``cc -O2 -march=native``) into
a temporary directory and runs its AVX-512 and AVX2 kernels. The peak is the
ceiling every other benchmark's GFLOP/s is compared with.

Run ``python bench/fma_peak.py`` for the table alone.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

from harness import (
    Report,
    format_number,
    markdown_table,
    start_benchmark,
)

SOURCE = Path(__file__).with_name("fma_peak.c")
COMPILE_FLAGS = ["-O2", "-march=native", "-pthread"]
ISAS = ("avx512", "avx2")
COLUMNS = ["ISA", "threads", "GFLOP/s (best)", "GFLOP/s per run"]


def compile_kernel(directory):
    """Compile fma_peak.c into directory; return the program path, or None and why."""
    compiler = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        return None, "no C compiler (cc, gcc or clang) on PATH"
    program = Path(directory) / "fma_peak"
    command = [compiler, *COMPILE_FLAGS, str(SOURCE), "-o", str(program)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return None, f"{' '.join(command)} failed: {result.stderr.strip()}"
    return program, " ".join([Path(compiler).name, *COMPILE_FLAGS])


def run_kernel(program, isa, threads, seconds, runs):
    """Return the GFLOP/s of each run, or None when the build lacks the ISA."""
    command = [str(program), isa, str(threads), str(seconds), str(runs)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    lines = result.stdout.split("\n")
    if lines[0].endswith("unsupported"):
        return None
    return [float(line.split()[2]) for line in lines if line.strip()]


def measure_peaks(thread_counts=(1, 2), seconds=0.1, runs=9):
    """Return {"peaks": {threads: best GFLOP/s}, "runs": {(isa, threads): [...]}, ...}.

    "peaks" contains the best ISA's best run for each thread count, or is empty
    when the kernel could not be compiled ("build" then says why).
    """
    with tempfile.TemporaryDirectory(prefix="fastmlp-bench-") as directory:
        program, build = compile_kernel(directory)
        if program is None:
            return {"peaks": {}, "runs": {}, "build": build}
        all_runs = {}
        for isa in ISAS:
            for threads in thread_counts:
                all_runs[(isa, threads)] = run_kernel(
                    program, isa, threads, seconds, runs
                )
    peaks = {}
    for threads in thread_counts:
        best = [max(r) for (_, t), r in all_runs.items() if t == threads and r]
        if best:
            peaks[threads] = max(best)
    return {"peaks": peaks, "runs": all_runs, "build": build}


def add_to_report(report, result):
    """Add the peak table to report."""
    rows = []
    for (isa, threads), runs in result["runs"].items():
        if runs is None:
            rows.append([isa, threads, "not supported by this CPU or compiler", "–"])
            continue
        each = ", ".join(format_number(r) for r in runs)
        rows.append([isa, threads, format_number(max(runs)), each])
    notes = [
        (
            f"Kernel: fma_peak.c built with `{result['build']}`; independent FMA "
            "chains per thread (AVX-512: 16 chains of 16 floats, AVX2: 12 chains of "
            "8), 2 flops per lane; threads start together and their rates are summed."
        ),
        (
            "The peak used for '% FMA peak' elsewhere is the best ISA's best run at "
            "the same thread count. The best of many short runs keeps a run slowed "
            "by other processes from lowering the peak."
        ),
    ]
    if not rows:
        notes.append(f"No peak measured: {result['build']}.")
    report.add("Float32 FMA peak", markdown_table(COLUMNS, rows), notes)


def main():
    args = start_benchmark(__doc__)
    add_to_report(Report(), measure_peaks(runs=15 if args.full else 9))


if __name__ == "__main__":
    main()
