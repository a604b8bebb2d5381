"""Smoke test of bench/memory.py: each case runs on 1 MiB and fills a table row.

No memory figure is asserted here; tests/test_memory.py checks the behaviour.
"""

import math
import os
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.skipif(
    not os.path.exists("/proc/self/status"), reason="reads /proc/self/status"
)
def test_bench_memory_cases_fill_table(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import memory

    for case in memory.CASES:
        measured = memory.run_case(case, 2**20)
        row = memory.table_row(case, measured)

        assert len(row) == len(memory.COLUMNS)
        assert measured["data_bytes"] >= 2**20
        assert measured["peak"] >= measured["before"] > 0
        assert math.isfinite(measured["loss"])
