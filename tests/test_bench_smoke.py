"""Smoke tests of the benchmark scripts in bench/: they import and build their tables.

Only the smallest cases run, and no timing is asserted: speed is recorded by
``python bench/run.py``, never tested.
"""

from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def bench(monkeypatch):
    """Put bench/ on sys.path and return its train and harness modules."""
    monkeypatch.syspath_prepend(str(BENCH))
    import harness
    import train

    return train, harness


def _header(table):
    return [cell.strip() for cell in table.splitlines()[0].strip("|").split("|")]


def _body(table):
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in table.splitlines()[2:]
    ]


def test_bench_training_table_columns(bench):
    train, harness = bench
    data = train.make_dataset(64)
    cases = train.benchmark_training(
        data,
        batch_sizes=(32,),
        thread_counts=(1,),
        contenders=("fastmlp", "reference"),
        repeats=2,
        target_seconds=0.005,
        ceilings=("gemm_only",),
    )
    report = harness.Report(echo=False)
    train.add_training_sections(report, cases, {1: 100.0}, 2, 0.005)
    table = report.sections[0].table

    assert _header(table) == train.COLUMNS
    contenders = [row[train.COLUMNS.index("contender")] for row in _body(table)]
    assert contenders == ["fastmlp", "NumPy reference"]


def test_bench_ratio_table_marks_missing_peers(bench):
    train, _ = bench
    data = train.make_dataset(32)
    cases = train.benchmark_training(
        data, (32,), (1,), ("fastmlp", "reference"), 2, 0.005, ceilings=()
    )
    rows = train.ratio_rows(cases, {})

    assert len(rows) == 1
    row = dict(zip(train.RATIO_COLUMNS, rows[0]))
    assert row["× PyTorch"] == "–"
    assert row["× scikit-learn"] == "–"
    assert row["% FMA peak"] == "–"


def test_bench_check_agrees_with_reference(bench):
    train, _ = bench
    data = train.make_dataset(32)
    forward_diff, gradient_diff = train.check_against_reference(data, 32, 1)

    # float32 against float64: rounding errors here are near 1e-6, so 1e-4 allows
    # other summation orders and still catches a wrong formula (errors near 1).
    assert forward_diff < 1e-4
    assert gradient_diff < 1e-4


def test_bench_dataset_take_whole_batches(bench):
    train, _ = bench
    data = train.make_dataset(100)

    assert data.take(1, 32) == (32, 1)
    assert data.take(40, 32) == (64, 1)
    # Beyond the pool (96 rows in whole batches of 32): several epochs over it.
    assert data.take(200, 32) == (96, 3)


def test_bench_measurement_rates(bench):
    _, harness = bench
    m = harness.Measurement(units=100, seconds=[1.0, 2.0, 4.0], page_faults=[0, 0, 3])

    assert m.rate == 50.0
    assert m.rate_range == (25.0, 100.0)
    assert m.median_page_faults == 0


def test_bench_markdown_table_rejects_short_row(bench):
    _, harness = bench
    with pytest.raises(ValueError, match=r"row has 1 cells, expected 2"):
        harness.markdown_table(["a", "b"], [["only one"]])


def test_bench_torch_trainer_runs_one_batch(bench):
    pytest.importorskip("torch")
    train, harness = bench
    data = train.make_dataset(32)
    with harness.thread_limits(1):
        run = train.torch_trainer(data, 16, 1)
        done = run(16)

    assert done == 16


def test_bench_gemm_layer_products_chain(bench):
    import gemm

    products = gemm.layer_products(8)

    assert len(products) == 9
    for label, a_shape, b_shape, transpose_a, transpose_b in products:
        k_of_a = a_shape[0] if transpose_a else a_shape[1]
        k_of_b = b_shape[1] if transpose_b else b_shape[0]
        assert k_of_a == k_of_b, label


def test_bench_gemm_table_columns(bench):
    _, harness = bench
    import gemm

    product = ("tiny", (5, 7), (3, 7), False, True)
    result = gemm.benchmark_product(product, np.float32, 1, 2, 0.002)
    table = harness.markdown_table(gemm.COLUMNS, gemm.gemm_rows([result], {}))

    assert _header(table) == gemm.COLUMNS
    assert result["mkn"] == (5, 7, 3)
    # Seven float32 products per entry: far below 1e-5 of entries of size ~3.
    assert result["difference"] < 1e-5
