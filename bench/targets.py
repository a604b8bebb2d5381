"""The Targets section: fastmlp's speed goals against the figures of this run.

Every figure comes from the results that the other sections measured in the
same run, so a row never mixes two runs. "met" compares the unrounded figure
with the threshold, so a ratio printed as "1.80×" can still miss a 1.8× target.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from harness import format_number, markdown_table
from train import FLOPS_PER_SAMPLE

# Hand-written analysis printed under the table, revised with the code.
LIMITS = Path(__file__).with_name("limits.md")

COLUMNS = ["case", "target", "measured", "met"]

# Names of the contenders in the cells, and the packages that provide the peers.
CONTENDER_NAMES = {
    "fastmlp": "fastmlp",
    "reference": "NumPy reference",
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    "gemm_only": "GEMM-only ceiling",
}
PEER_PACKAGES = {"torch": "torch", "sklearn": "sklearn"}

# The two thread counts compared by the "2 threads vs 1" rows.
ONE_THREAD, TWO_THREADS = 1, 2


@dataclass(frozen=True)
class Target:
    """A speed goal: a figure of at least `minimum`.

    `wording` is the text of the target column, with {} where the threshold
    goes. `against` names what fastmlp's figure is divided by: a contender of
    the training tables, "gemm_only", "fma_peak", or "fastmlp" for fastmlp on
    one thread.
    """

    wording: str
    minimum: float
    against: str

    @property
    def text(self):
        return self.wording.format(f"{self.minimum:g}")

    def met_by(self, value):
        """Return whether value reaches the minimum, or None if it was not measured."""
        return None if value is None else value >= self.minimum


# The rows of the table in order: case, then the targets of that case.
# Percentages are in percent (85 means 85% of the ceiling).
TARGETS = {
    "batch 128, 1 thread": (
        Target("≥ {}× PyTorch", 2.0, "torch"),
        Target("≥ {}× scikit-learn", 1.5, "sklearn"),
        Target("≥ {}% of GEMM-only", 85.0, "gemm_only"),
    ),
    "batch 1024, 1 thread": (
        Target("≥ {}% of GEMM-only", 90.0, "gemm_only"),
        Target("≥ {}% of FMA peak", 70.0, "fma_peak"),
    ),
    "2 threads vs 1, batch ≥ 128": (Target("≥ {}×", 1.8, "fastmlp"),),
    "2 threads vs 1, any batch": (Target("never slower", 1.0, "fastmlp"),),
    "batch 1": (Target("≥ {}× PyTorch", 10.0, "torch"),),
    "XOR 2-4-1, batch 1": (Target("≥ {}× PyTorch per step", 500.0, "torch"),),
    "inference, batch 1": (Target("≥ {}× PyTorch (latency)", 10.0, "torch"),),
    "inference, batch 10,000": (Target("≥ {}× PyTorch", 1.2, "torch"),),
    "float64, batch 128": (Target("≥ {}× the NumPy reference", 1.5, "reference"),),
}

MET_TEXT = {True: "yes", False: "no", None: "unknown"}


@dataclass(frozen=True)
class Figure:
    """A measured figure, None when it is missing, and its text for the table."""

    value: float | None
    text: str


# Formatting -----------------------------------------------------------------------


def format_ratio(value):
    """Return value with three significant digits, trailing zeros kept, and "×"."""
    text = f"{value:#.3g}"
    if "e" in text:
        return f"{value:,.0f}×"
    return text.rstrip(".") + "×"


def format_percent(value):
    """Return a percentage with one decimal, such as "92.6%"."""
    return f"{value:.1f}%"


def format_threads(threads, first):
    """Return "1 thread" or "2 threads" for the first item of a cell, else "2"."""
    if not first:
        return str(threads)
    return f"{threads} thread{'s' if threads > 1 else ''}"


def format_microseconds(measurement):
    """Return the median time of one unit (call or step) in µs, formatted."""
    return f"{format_number(1e6 / measurement.rate)} µs"


def missing_text(name):
    """Return why `name` has no figure: its package is missing, or it did not run."""
    package = PEER_PACKAGES.get(name)
    if package is not None and importlib.util.find_spec(package) is None:
        return f"{CONTENDER_NAMES[name]} not measured ({package} not installed)"
    return f"{CONTENDER_NAMES[name]} not measured"


# Figures --------------------------------------------------------------------------


def ratio_figure(measurements, peer):
    """Return fastmlp's rate over the peer's rate, or why one of them is missing."""
    for name in ("fastmlp", peer):
        if name not in measurements:
            return Figure(None, missing_text(name))
    value = measurements["fastmlp"].rate / measurements[peer].rate
    return Figure(value, format_ratio(value))


def case_figure(case, against, peaks):
    """Return the figure of one training case that `against` names."""
    m = case.measurements
    if against == "fma_peak":
        if "fastmlp" not in m:
            return Figure(None, missing_text("fastmlp"))
        peak = peaks.get(case.threads)
        if peak is None:
            return Figure(None, "no FMA peak measured")
        gflops = m["fastmlp"].rate * FLOPS_PER_SAMPLE * 1e-9
        value = 100 * gflops / peak
        return Figure(value, format_percent(value))
    ratio = ratio_figure(m, against)
    if against != "gemm_only" or ratio.value is None:
        return ratio
    return Figure(100 * ratio.value, format_percent(100 * ratio.value))


# The "met" column ----------------------------------------------------------------


def met_for_targets(targets, figures):
    """Return "yes", "no", "unknown" or "no, misses ..." for one case's targets."""
    states = [target.met_by(figure.value) for target, figure in zip(targets, figures)]
    if all(state is True for state in states):
        return "yes"
    if False not in states:
        return "unknown"
    if True not in states:
        return "no"
    missed = [t.text for t, state in zip(targets, states) if state is False]
    return "no, misses " + " and ".join(missed)


def met_for_places(states, only_form=False):
    """Return the "met" text of a target checked in several places.

    states is a list of (place, met) with place such as "at 128" or "on 2
    threads". The same result everywhere gives "yes", "no" or "unknown". A mix
    lists every place ("no at 128, yes at 1024"), or with only_form the places
    where it is met ("on 2 threads only").
    """
    kinds = {state for _, state in states}
    if len(kinds) <= 1:
        return MET_TEXT[kinds.pop() if kinds else None]
    if only_form and kinds == {True, False}:
        return " and ".join(place for place, state in states if state) + " only"
    return ", ".join(f"{MET_TEXT[state]} {place}" for place, state in states)


# Rows -----------------------------------------------------------------------------


def find_case(cases, batch_size, threads):
    """Return the case of that batch size and thread count, or None."""
    for case in cases:
        if case.batch_size == batch_size and case.threads == threads:
            return case
    return None


def training_case_row(label, cases, batch_size, threads, peaks):
    """Return the row of one training case against each of its targets."""
    targets = TARGETS[label]
    wording = ", ".join(t.text for t in targets)
    case = find_case(cases, batch_size, threads)
    if case is None:
        return [label, wording, f"batch {batch_size} not run", "unknown"]
    figures = [case_figure(case, t.against, peaks) for t in targets]
    measured = ", ".join(figure.text for figure in figures)
    return [label, wording, measured, met_for_targets(targets, figures)]


def speedup_row(label, cases, min_batch_size=None):
    """Return the row comparing fastmlp on two threads with one, per batch size.

    Without min_batch_size the row covers every batch size. One run shows only
    the batch sizes it measured, so that row's "met" cell is "yes in this run" or
    names the batch sizes where two threads were slower.
    """
    (target,) = TARGETS[label]
    items, states = [], []
    batch_sizes = sorted({case.batch_size for case in cases})
    for batch_size in batch_sizes:
        if min_batch_size is not None and batch_size < min_batch_size:
            continue
        one_thread = find_case(cases, batch_size, ONE_THREAD)
        two_threads = find_case(cases, batch_size, TWO_THREADS)
        if one_thread is None or two_threads is None:
            continue
        pair = (one_thread, two_threads)
        if any("fastmlp" not in case.measurements for case in pair):
            continue
        value = (
            two_threads.measurements["fastmlp"].rate
            / one_thread.measurements["fastmlp"].rate
        )
        prefix = "" if items else "batch "
        items.append(f"{format_ratio(value)} ({prefix}{batch_size})")
        states.append((batch_size, target.met_by(value)))
    if not items:
        return [label, target.text, "not run on both thread counts", "unknown"]
    if min_batch_size is None:
        slower = [str(b) for b, state in states if state is False]
        met = "no at " + ", ".join(slower) if slower else "yes in this run"
    else:
        met = met_for_places([(f"at {b}", state) for b, state in states])
    return [label, target.text, ", ".join(items), met]


def thread_row(label, by_threads, detail=None, later_detail=None):
    """Return the row of a target checked on each thread count.

    by_threads maps a thread count to the measurements of that count.
    detail(ours, peer) returns the absolute figures shown in parentheses after
    the first ratio. later_detail does the same for the other ratios.
    """
    (target,) = TARGETS[label]
    peer = target.against
    if not by_threads:
        return [label, target.text, "not run", "unknown"]
    if not any(peer in m for m in by_threads.values()):
        return [label, target.text, missing_text(peer), "unknown"]
    items, states = [], []
    for threads, measurements in by_threads.items():
        first = not items
        figure = ratio_figure(measurements, peer)
        text = f"{figure.text} on {format_threads(threads, first)}"
        describe = detail if first else later_detail
        if figure.value is not None and describe is not None:
            text += f" ({describe(measurements['fastmlp'], measurements[peer])})"
        items.append(text)
        place = f"on {format_threads(threads, True)}"
        states.append((place, target.met_by(figure.value)))
    return [label, target.text, ", ".join(items), met_for_places(states, True)]


def rates_detail(ours, peer):
    return f"{format_number(ours.rate)} against {format_number(peer.rate)} samples/s"


def times_detail(ours, peer):
    return f"{format_microseconds(ours)} against {format_microseconds(peer)}"


def own_time_detail(ours, peer):
    return format_microseconds(ours)


def by_threads_of_cases(cases, batch_size):
    """Return {threads: measurements} of the training cases at one batch size."""
    return {c.threads: c.measurements for c in cases if c.batch_size == batch_size}


def by_threads_of_results(results):
    """Return {threads: measurements} of {threads: (measurements, check)} results."""
    return {threads: result[0] for threads, result in results.items()}


def target_rows(training, float64, inference, xor, peaks):
    """Return the rows of the Targets table, in the order of TARGETS.

    training and float64 are the Case lists of train.run_training and
    train.run_float64, inference the (throughput, latency) pair of
    inference.run_inference, xor the result of xor.run_xor, and peaks the
    float32 FMA peak in GFLOP/s per thread count.
    """
    throughput, latency = inference
    return [
        training_case_row("batch 128, 1 thread", training, 128, 1, peaks),
        training_case_row("batch 1024, 1 thread", training, 1024, 1, peaks),
        speedup_row("2 threads vs 1, batch ≥ 128", training, 128),
        speedup_row("2 threads vs 1, any batch", training),
        thread_row("batch 1", by_threads_of_cases(training, 1), rates_detail),
        thread_row("XOR 2-4-1, batch 1", by_threads_of_results(xor), times_detail),
        thread_row(
            "inference, batch 1",
            by_threads_of_results(latency),
            times_detail,
            own_time_detail,
        ),
        thread_row("inference, batch 10,000", by_threads_of_results(throughput)),
        thread_row("float64, batch 128", by_threads_of_cases(float64, 128)),
    ]


def add_targets_section(report, training, float64, inference, xor, peaks):
    """Add the Targets table to report, and the analysis of bench/limits.md below."""
    table = markdown_table(
        COLUMNS, target_rows(training, float64, inference, xor, peaks)
    )
    notes = [
        (
            "Computed by bench/run.py from the tables above, same run. 'met' "
            "compares the unrounded figure with the target."
        )
    ]
    footer = (
        "The analysis below is written by hand in bench/limits.md, and `git log "
        "bench/limits.md` shows when it was last revised.\n\n"
        + LIMITS.read_text().strip()
    )
    return report.add("Targets", table, notes, footer)
