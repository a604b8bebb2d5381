"""Tests of bench/targets.py on synthetic results: the "met" column and missing peers.

No benchmark runs here. Each test builds the results that bench/run.py passes
to the targets module, with figures chosen just above or just below a
threshold.
"""

from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

PEAKS = {1: 100.0, 2: 200.0}
BATCH_SIZES = (1, 32, 128, 1024)
THREAD_COUNTS = (1, 2)
PEERS = ("reference", "torch", "sklearn")


@pytest.fixture
def bench(monkeypatch):
    """Put bench/ on sys.path and return its targets, train and harness modules."""
    monkeypatch.syspath_prepend(str(BENCH))
    import harness
    import targets
    import train

    return targets, train, harness


def measured(harness, rate):
    """Return a Measurement whose median rate is `rate` units per second."""
    return harness.Measurement(units=rate, seconds=[1.0], page_faults=[0])


def synthetic_results(bench, values=None):
    """Return (training, float64, inference, xor, peaks) with chosen figures.

    values maps (case label, target index) to the figure that target is checked
    against: a number, or a dict keyed by thread count (rows checked per thread
    count) or by batch size (the "2 threads vs 1" rows). Every figure not given
    is twice its threshold, so it is met.
    """
    targets, train, harness = bench
    values = values or {}

    def figure(label, index, place):
        value = values.get((label, index), 2 * targets.TARGETS[label][index].minimum)
        return value[place] if isinstance(value, dict) else value

    def contenders(rate):
        rates = {"fastmlp": rate, "gemm_only": rate}
        rates.update({peer: rate / 2 for peer in PEERS})
        return rates

    training = []
    for batch_size in BATCH_SIZES:
        rate = 1000.0
        if batch_size == 1024:
            # % FMA peak = rate x flops per sample / peak, in percent.
            percent = figure("batch 1024, 1 thread", 1, 1)
            rate = percent / 100 * PEAKS[1] * 1e9 / train.FLOPS_PER_SAMPLE
        if batch_size >= 128:
            speedup = figure("2 threads vs 1, batch ≥ 128", 0, batch_size)
        else:
            speedup = figure("2 threads vs 1, any batch", 0, batch_size)
        for threads in THREAD_COUNTS:
            ours = rate * speedup if threads == 2 else rate
            rates = contenders(ours)
            if batch_size == 1:
                rates["torch"] = ours / figure("batch 1", 0, threads)
            if (batch_size, threads) == (128, 1):
                rates["torch"] = ours / figure("batch 128, 1 thread", 0, 1)
                rates["sklearn"] = ours / figure("batch 128, 1 thread", 1, 1)
                percent = figure("batch 128, 1 thread", 2, 1)
                rates["gemm_only"] = ours / (percent / 100)
            if (batch_size, threads) == (1024, 1):
                percent = figure("batch 1024, 1 thread", 0, 1)
                rates["gemm_only"] = ours / (percent / 100)
            measurements = {name: measured(harness, r) for name, r in rates.items()}
            training.append(
                train.Case(batch_size, threads, measurements, (0.0, 0.0), "")
            )

    def per_thread(label, peer):
        results = {}
        for threads in THREAD_COUNTS:
            measurements = {
                "fastmlp": measured(harness, 1000.0),
                peer: measured(harness, 1000.0 / figure(label, 0, threads)),
            }
            results[threads] = (measurements, {})
        return results

    float64 = [
        train.Case(128, threads, measurements, (0.0, 0.0), "")
        for threads, (measurements, _) in per_thread(
            "float64, batch 128", "reference"
        ).items()
    ]
    inference = (
        per_thread("inference, batch 10,000", "torch"),
        per_thread("inference, batch 1", "torch"),
    )
    xor = per_thread("XOR 2-4-1, batch 1", "torch")
    return training, float64, inference, xor, dict(PEAKS)


def rows_by_case(targets, results):
    """Return the Targets rows keyed by case, each as a dict of the columns."""
    rows = targets.target_rows(*results)
    return {row[0]: dict(zip(targets.COLUMNS, row)) for row in rows}


def row_with_figure(bench, label, value):
    """Return the row of `label` when its first target's figure is `value`."""
    targets = bench[0]
    results = synthetic_results(bench, {(label, 0): value})
    return rows_by_case(targets, results)[label]


def test_bench_targets_rows_in_order(bench):
    targets, _, _ = bench
    rows = targets.target_rows(*synthetic_results(bench))

    assert [row[0] for row in rows] == list(targets.TARGETS)
    assert all(len(row) == len(targets.COLUMNS) for row in rows)


def test_bench_targets_threshold_each_side(bench):
    targets, _, _ = bench
    for label, row_targets in targets.TARGETS.items():
        for index, target in enumerate(row_targets):
            above = {(label, index): target.minimum * 1.001}
            below = {(label, index): target.minimum * 0.999}
            row_above = rows_by_case(targets, synthetic_results(bench, above))[label]
            row_below = rows_by_case(targets, synthetic_results(bench, below))[label]

            assert row_above["met"] in ("yes", "yes in this run"), target.text
            assert row_below["met"].startswith("no"), target.text


def test_bench_targets_names_missed_target(bench):
    targets, _, _ = bench
    label = "batch 128, 1 thread"
    results = synthetic_results(bench, {(label, 1): 1.49})
    row = rows_by_case(targets, results)[label]

    assert row["met"] == "no, misses ≥ 1.5× scikit-learn"
    assert row["measured"] == "4.00×, 1.49×, 170.0%"


def test_bench_targets_met_on_one_thread_count(bench):
    row = row_with_figure(bench, "batch 1", {1: 9.9, 2: 10.1})

    assert row["met"] == "on 2 threads only"
    assert row["measured"].startswith("9.90× on 1 thread (1,000 against 101 ")
    assert row["measured"].endswith(", 10.1× on 2")


def test_bench_targets_met_at_one_batch_size(bench):
    label = "2 threads vs 1, batch ≥ 128"
    row = row_with_figure(bench, label, {128: 1.79, 1024: 1.81})

    assert row["met"] == "no at 128, yes at 1024"
    assert row["measured"] == "1.79× (batch 128), 1.81× (1024)"


def test_bench_targets_slower_batch_named(bench):
    label = "2 threads vs 1, any batch"
    row = row_with_figure(bench, label, {1: 1.2, 32: 0.95})

    assert row["met"] == "no at 32"
    assert row["measured"].startswith("1.20× (batch 1), 0.950× (32), ")


def test_bench_targets_latency_shows_times(bench):
    row = row_with_figure(bench, "inference, batch 1", {1: 4.0, 2: 5.0})

    # fastmlp makes 1,000 calls/s: 1,000 µs a call, the peer 4 and 5 times that.
    assert row["measured"] == (
        "4.00× on 1 thread (1,000 µs against 4,000 µs), 5.00× on 2 (1,000 µs)"
    )
    assert row["met"] == "no"


def test_bench_targets_missing_torch(bench):
    targets, _, _ = bench
    training, float64, (throughput, latency), xor, peaks = synthetic_results(bench)
    for case in training + float64:
        case.measurements.pop("torch", None)
    for results in (throughput, latency, xor):
        for measurements, _ in results.values():
            measurements.pop("torch", None)
    rows = rows_by_case(targets, (training, float64, (throughput, latency), xor, peaks))

    first = rows["batch 128, 1 thread"]
    assert first["measured"].startswith("PyTorch not measured")
    assert first["met"] == "unknown"
    for label in (
        "batch 1",
        "XOR 2-4-1, batch 1",
        "inference, batch 1",
        "inference, batch 10,000",
    ):
        assert rows[label]["measured"].startswith("PyTorch not measured"), label
        assert rows[label]["met"] == "unknown", label
    assert rows["float64, batch 128"]["met"] == "yes"


def test_bench_targets_missing_peak_and_case(bench):
    targets, _, _ = bench
    training, float64, inference, xor, _ = synthetic_results(bench)
    training = [case for case in training if case.batch_size != 32]
    rows = rows_by_case(targets, (training, float64, inference, xor, {}))

    assert rows["batch 1024, 1 thread"]["measured"].endswith("no FMA peak measured")
    assert rows["batch 1024, 1 thread"]["met"] == "unknown"
    assert "(32)" not in rows["2 threads vs 1, any batch"]["measured"]

    without_1024 = [case for case in training if case.batch_size != 1024]
    rows = rows_by_case(targets, (without_1024, float64, inference, xor, {}))
    assert rows["batch 1024, 1 thread"]["measured"] == "batch 1024 not run"
    assert rows["batch 1024, 1 thread"]["met"] == "unknown"


def test_bench_targets_ratio_format(bench):
    targets, _, _ = bench

    assert targets.format_ratio(1.7) == "1.70×"
    assert targets.format_ratio(445.4) == "445×"
    assert targets.format_ratio(14.66) == "14.7×"
    assert targets.format_ratio(1234.0) == "1,234×"


def test_bench_targets_section_appends_limits(bench):
    targets, _, harness = bench
    report = harness.Report(echo=False)
    targets.add_targets_section(report, *synthetic_results(bench))
    text = report.sections[0].markdown()
    limits = targets.LIMITS.read_text().strip()

    assert text.startswith("## Targets\n")
    assert "| case | target | measured | met |" in text
    assert "written by hand in bench/limits.md" in text
    assert text.endswith(limits + "\n")
