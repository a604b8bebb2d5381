"""Smoke tests of bench/lbfgs.py: it imports, checks its start and builds its table.

Only a tiny problem runs, and no timing is asserted: speed is recorded by
``python bench/lbfgs.py``, never tested.
"""

from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture
def lbfgs(monkeypatch):
    """Put bench/ on sys.path and return the lbfgs benchmark module."""
    monkeypatch.syspath_prepend(str(BENCH))
    import lbfgs

    return lbfgs


def tiny_problem(lbfgs):
    """Return a 60 x 5 problem with 3 classes."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    return lbfgs.Problem("tiny 60 x 5", X, np.argmax(X[:, :3], axis=1))


TINY_SETTINGS = {
    "solver": "lbfgs",
    "hidden_layer_sizes": (4,),
    "activation": "relu",
    "alpha": 1e-4,
    "tol": 1e-4,
    "max_iter": 5,
    "random_state": 0,
}


def test_bench_lbfgs_initial_weights_are_sklearns(lbfgs):
    problem = tiny_problem(lbfgs)
    settings = {**TINY_SETTINGS, "max_iter": 1}
    ours = lbfgs.FastmlpFitter(problem, settings)
    theirs = lbfgs.SklearnFitter(problem, settings)

    ours.run(1)
    theirs.run(1)

    # One iteration from the same weights, float64 on both sides: the only
    # differences are in the summation order.
    for coef, expected in zip(ours.model.coefs_, theirs.model.coefs_):
        np.testing.assert_allclose(coef, expected, rtol=1e-9, atol=1e-12)


def test_bench_lbfgs_table_columns(lbfgs, monkeypatch):
    monkeypatch.setattr(lbfgs, "SETTLE_SECONDS", 0.0)
    problem = tiny_problem(lbfgs)
    case = lbfgs.benchmark_problem(
        problem, threads=1, repeats=2, settings=TINY_SETTINGS
    )
    table = lbfgs.markdown_table(lbfgs.COLUMNS, lbfgs.lbfgs_rows([case]))
    header = [cell.strip() for cell in table.splitlines()[0].strip("|").split("|")]
    rows = [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|"))))
        for line in table.splitlines()[2:]
    ]

    assert header == lbfgs.COLUMNS
    assert [row["contender"] for row in rows] == ["fastmlp", "scikit-learn"]
    assert [row["iterations"] for row in rows] == ["5", "5"]
    assert rows[0]["÷ fastmlp (time)"] == "1"
    assert case.difference < 1e-9
    assert len(case.measurements["sklearn"].seconds) == 2
