"""The examples, run in their quick mode as a user would, and their main claims."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, tmp_path):
    """Run ``python -m fastmlp name --quick``; return its stdout lines and picture."""
    picture = tmp_path / f"{name}.png"
    result = subprocess.run(
        [sys.executable, "-m", "fastmlp", name, "--quick", "--output", str(picture)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert picture.stat().st_size > 0
    return result.stdout.splitlines(), picture


def table_rows(lines, header_start):
    """Return the split rows after the line starting with header_start."""
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("saved "):
            break
        rows.append(line)
    return rows


def test_overfit_each_regulariser_narrows_gap(tmp_path):
    lines, _ = run_example("overfit", tmp_path)
    gaps = {}
    for row in table_rows(lines, "setting"):
        # The setting's name has spaces, and the last four columns are numbers.
        name, numbers = row[:32].strip(), row[32:].split()
        gaps[name] = float(numbers[2])
    assert len(gaps) == 4
    baseline = gaps.pop("none")
    for name, gap in gaps.items():
        assert gap < baseline, f"{name}: gap {gap} not below {baseline} without it"


def test_approximate_error_falls_inside_interval_only(tmp_path):
    lines, _ = run_example("approximate", tmp_path)
    rows = [row.split() for row in table_rows(lines, "units")]
    widths = [int(row[0]) for row in rows]
    inside = [float(row[1]) for row in rows]
    outside = [float(row[2]) for row in rows]
    assert widths == sorted(widths)
    # One unit cannot follow the oscillation (error near 0.5); 16 units can.
    assert inside[-1] < inside[0] / 10
    # Beyond the training interval the widest fit is still far off.
    assert outside[-1] > 10 * inside[-1]


def test_speed_prints_every_batch_size(tmp_path):
    lines, _ = run_example("speed", tmp_path)
    rows = [row.split() for row in table_rows(lines, "batch")]
    assert [int(row[0]) for row in rows] == [1, 32, 512]
    for row in rows:
        fast, slow = (float(value.replace(",", "")) for value in row[1:3])
        assert fast > 0
        assert slow > 0


@pytest.mark.parametrize("name", ["xor", "overfit", "approximate", "speed", "prune"])
def test_example_script_runs_help(name):
    script = EXAMPLES_DIR / f"{name}.py"
    result = subprocess.run(
        [sys.executable, str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"--output", result.stdout)


def test_example_without_matplotlib_fails_before_training(tmp_path):
    # A package named matplotlib that fails to import acts as a missing one.
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "fake")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastmlp",
            "overfit",
            "--output",
            str(tmp_path / "o.png"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    assert "pip install matplotlib" in result.stderr
    assert "Traceback" not in result.stderr
    # Training would print the data set line first.
    assert result.stdout == ""
