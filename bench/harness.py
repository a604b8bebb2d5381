"""Timing, thread control and reporting shared by the benchmark scripts.

Every benchmark follows the same steps. It checks the result against a
reference, warms up, and calibrates the amount of work so that one repeat takes
a set time. It then runs the repeats of all contenders interleaved, so that
drift in clock speed or background load hits every contender alike, and reports
the median with the range. Absolute figures on a shared machine are noisy, so
the ratios from one run are the figures to compare.
"""

import argparse
import contextlib
import gc
import io
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import fastmlp
from fastmlp import reference

# OpenBLAS reads these when it is loaded. Older OpenBLAS builds need them on some
# processors, but they pin a current NumPy to slower kernels, so the benchmarks
# drop them from their own process environment (never from tests or CI).
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# The restarted process finds here which overrides its parent removed.
REMOVED_ENV_MARKER = "FASTMLP_BENCH_REMOVED_ENV"


def restart_without_openblas_overrides():
    """Re-execute this script without the OpenBLAS overrides, if any are set.

    OpenBLAS picks its kernel once, when NumPy loads it, so the variables must
    be gone before NumPy starts, and restarting the interpreter ensures that.
    Only this process and its children see the change.
    """
    present = [name for name in OPENBLAS_OVERRIDES if name in os.environ]
    if not present:
        return
    env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES}
    env[REMOVED_ENV_MARKER] = " ".join(f"{k}={os.environ[k]}" for k in present)
    argv = getattr(sys, "orig_argv", [sys.executable, *sys.argv])
    sys.stdout.flush()
    os.execve(sys.executable, argv, env)


# Timing ---------------------------------------------------------------------------


@dataclass
class Measurement:
    """Repeated timings of one contender doing `units` units of work per repeat."""

    units: int
    seconds: list = field(default_factory=list)
    page_faults: list = field(default_factory=list)

    @property
    def median_seconds(self):
        return statistics.median(self.seconds)

    @property
    def rate(self):
        """Units per second at the median time."""
        return self.units / self.median_seconds

    @property
    def rate_range(self):
        """(slowest, fastest) units per second over the repeats."""
        return self.units / max(self.seconds), self.units / min(self.seconds)

    @property
    def median_page_faults(self):
        """Median count of minor page faults per repeat (all threads)."""
        return statistics.median(self.page_faults)


def _minor_faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_call(run, units):
    """Return (units done, seconds, minor page faults) of one call run(units)."""
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        faults = _minor_faults()
        start = time.perf_counter()
        done = run(units)
        elapsed = time.perf_counter() - start
        faults = _minor_faults() - faults
    finally:
        if gc_was_enabled:
            gc.enable()
    return done, elapsed, faults


# Idle time before each timed call of time_interleaved.
SETTLE_SECONDS = 0.15


def calibrate(run, target_seconds, first_units=1):
    """Warm run up and return the units whose call takes about target_seconds.

    run(units) does at least `units` units of work (it may round up, e.g. to
    whole batches) and returns the units it did. The first call is a warm-up
    and is not used: it pays for allocation, page faults and lazy set-up.
    """
    run(first_units)
    units = first_units
    while True:
        done, elapsed, _ = time_call(run, units)
        if elapsed >= target_seconds / 10:
            break
        units = done * 4
    # One more call at the estimated size. The faster of the two estimates wins,
    # because a call slowed down by other load would make the repeats too short.
    rate = done / elapsed
    done, elapsed, _ = time_call(run, max(1, round(rate * target_seconds)))
    rate = max(rate, done / elapsed)
    return max(1, round(rate * target_seconds))


def _has_worker_threads():
    """Return whether a thread pool (threadpoolctl's or torch's) has workers."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() > 1:
        return True
    return any(pool["num_threads"] > 1 for pool in threadpool_info())


def time_interleaved(runs, repeats, target_seconds):
    """Calibrate each run, then time `repeats` rounds with the runs interleaved.

    Parameters
    ----------
    runs : dict of str to callable
        Name to run(units) -> units done, as for `calibrate`.
    repeats : int
        Timed calls per contender.
    target_seconds : float
        Wanted wall time of one call.

    Returns
    -------
    dict of str to Measurement
    """
    units = {name: calibrate(run, target_seconds) for name, run in runs.items()}
    # Idle before each call, so that the previous contender's worker threads stop
    # spinning before this one starts. OpenBLAS and GNU OpenMP workers busy-wait
    # for a while after their last job and take cores meanwhile: an OpenBLAS
    # worker spun for about 0.1 s on a 2-core test machine. With one thread per
    # pool there are no workers, and no wait.
    settle_seconds = SETTLE_SECONDS if _has_worker_threads() else 0.0
    measurements = {}
    for _ in range(repeats):
        for name, run in runs.items():
            time.sleep(settle_seconds)
            done, elapsed, faults = time_call(run, units[name])
            measurement = measurements.setdefault(name, Measurement(done))
            measurement.seconds.append(elapsed)
            measurement.page_faults.append(faults)
    return measurements


# Threads --------------------------------------------------------------------------


@contextlib.contextmanager
def thread_limits(threads):
    """Limit every thread pool that threadpoolctl finds, and torch if loaded."""
    torch = sys.modules.get("torch")
    previous = torch.get_num_threads() if torch is not None else None
    with threadpool_limits(limits=threads):
        if torch is not None:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            if torch is not None:
                torch.set_num_threads(previous)


def describe_thread_pools():
    """Return threadpoolctl's view of the thread pools as one line."""
    pools = [
        f"{pool['prefix']} ({pool['internal_api']}) {pool['num_threads']}"
        for pool in threadpool_info()
    ]
    torch = sys.modules.get("torch")
    if torch is not None:
        pools.append(f"torch.get_num_threads() {torch.get_num_threads()}")
    return "; ".join(pools)


# Machine and versions -------------------------------------------------------------


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in ("avx2", "fma", "avx512f") if f in flags]
    except OSError:
        pass
    return []


def _version(module_name):
    try:
        module = __import__(module_name)
    except ImportError:
        return "not installed"
    return getattr(module, "__version__", "unknown")


def describe_blas():
    """Return one line per BLAS library loaded: name, version and kernel."""
    lines = []
    for pool in threadpool_info():
        if pool["user_api"] != "blas":
            continue
        kernel = pool.get("architecture") or "unknown kernel"
        layer = pool.get("threading_layer") or "unknown threading"
        name = os.path.basename(pool["filepath"])
        lines.append(
            f"{pool['internal_api']} {pool['version']}, kernel {kernel}, {layer} "
            f"({name})"
        )
    return lines or ["no BLAS library reported by threadpoolctl"]


def describe_build():
    """Return fastmlp's build configuration if it reports one."""
    if not hasattr(fastmlp, "show_config"):
        return "not reported (this fastmlp has no show_config())"
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        result = fastmlp.show_config()
    text = captured.getvalue().strip() or str(result)
    return " ".join(text.split())


def machine_header():
    """Return Markdown lines naming the machine, versions, BLAS and build flags."""
    removed = os.environ.get(REMOVED_ENV_MARKER)
    kept = [f"{k}={os.environ[k]}" for k in OPENBLAS_OVERRIDES if k in os.environ]
    if removed:
        env_line = f"removed for this run only: {removed}"
    elif kept:
        env_line = f"kept: {' '.join(kept)} (NumPy runs slower kernels)"
    else:
        env_line = "none set"
    flags = ", ".join(_cpu_flags()) or "none of avx2/fma/avx512f"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    versions = ", ".join(
        f"{name} {_version(module)}"
        for name, module in [
            ("fastmlp", "fastmlp"),
            ("numpy", "numpy"),
            ("torch", "torch"),
            ("scikit-learn", "sklearn"),
            ("threadpoolctl", "threadpoolctl"),
        ]
    )
    lines = [
        f"- Machine: {_cpu_model()}, {os.cpu_count()} logical CPUs, SIMD: {flags}",
        f"- Python {platform.python_version()}; {versions}",
        *[f"- BLAS: {line}" for line in describe_blas()],
        f"- OpenBLAS environment overrides: {env_line}",
        f"- fastmlp build: {describe_build()}",
        f"- Thread pools at start: {describe_thread_pools()}",
        f"- Load average at start (1, 5, 15 min): {load}",
    ]
    return lines


# Tables ---------------------------------------------------------------------------


def format_number(value):
    """Return value with three significant digits, thousands separated."""
    if value is None:
        return "–"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1e-3:
        return f"{value:.3g}"
    return f"{value:.2e}"


def format_range(low, high):
    """Return 'low–high' with both ends formatted by format_number."""
    return f"{format_number(low)}–{format_number(high)}"


def markdown_table(columns, rows):
    """Return a Markdown table with a header row and one line per row."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        if len(row) != len(columns):
            raise ValueError(
                f"row has {len(row)} cells, expected {len(columns)}: {row!r}"
            )
        lines.append("| " + " | ".join(str(cell) for cell in row) + " |")
    return "\n".join(lines)


@dataclass
class Section:
    """A titled part of the report: notes, then a table, then a closing text."""

    title: str
    notes: list
    table: str
    footer: str = ""

    def markdown(self):
        parts = [f"## {self.title}", ""]
        if self.notes:
            parts += [f"- {note}" for note in self.notes] + [""]
        parts.append(self.table)
        if self.footer:
            parts += ["", self.footer]
        return "\n".join(parts) + "\n"


class Report:
    """Sections collected in order; each is printed as soon as it is added."""

    def __init__(self, echo=True):
        self.sections = []
        self.echo = echo

    def add(self, title, table, notes=(), footer=""):
        section = Section(title, list(notes), table, footer)
        self.sections.append(section)
        if self.echo:
            print(section.markdown(), flush=True)
        return section

    def markdown(self):
        return "\n".join(section.markdown() for section in self.sections)


def standard_arguments(parser):
    """Add the switches every benchmark script takes; without a flag, --quick runs."""
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--quick",
        action="store_true",
        help="reduced set (the default); run.py then takes under a minute on an "
        "idle 2-core machine",
    )
    mode.add_argument(
        "--full",
        action="store_true",
        help="every case of the sweep, with longer repeats",
    )
    parser.add_argument(
        "--keep-openblas-env",
        action="store_true",
        help="keep OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (default: removed)",
    )
    return parser


def parse_arguments(description, add_arguments=None):
    """Parse the command line of a benchmark script and drop the OpenBLAS overrides.

    The parser takes the standard switches and those that add_arguments(parser)
    adds. Unless --keep-openblas-env is given, the process then restarts
    without the overrides (see restart_without_openblas_overrides).
    """
    parser = standard_arguments(argparse.ArgumentParser(description=description))
    if add_arguments is not None:
        add_arguments(parser)
    args = parser.parse_args()
    if not args.keep_openblas_env:
        restart_without_openblas_overrides()
    return args


def start_benchmark(description, add_arguments=None):
    """Parse the command line as parse_arguments does and print the machine header.

    Returns the parsed arguments.
    """
    args = parse_arguments(description, add_arguments)
    print("\n".join(machine_header()) + "\n", flush=True)
    return args


def float64_reference(net):
    """Return a float64 fastmlp.reference.MLP with the layers and parameters of net.

    The reference computes from net's values as they are (float32-rounded for a
    float32 net), so differences from it show the error of net's arithmetic.
    """
    ref = reference.MLP(
        net.sizes,
        activation=net.activation,
        output=net.output,
        dtype="float64",
        seed=0,
    )
    ref.weights = [W.astype(np.float64) for W in net.weights]
    ref.biases = [b.astype(np.float64) for b in net.biases]
    return ref


def seeded_rng(seed=0):
    """Return the generator behind every synthetic input."""
    return np.random.default_rng(seed)
