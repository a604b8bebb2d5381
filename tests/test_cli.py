"""The ``python -m fastmlp`` commands, run as a user would run them."""

import re
import subprocess
import sys

import pytest


def run_fastmlp(*args):
    """Run ``python -m fastmlp args`` and return the completed process."""
    return subprocess.run(
        [sys.executable, "-m", "fastmlp", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_xor_truth_table():
    result = run_fastmlp("xor")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-5].split() == ["x1", "x2", "target", "output"]
    rows = [line.split() for line in lines[-4:]]
    assert [row[:3] for row in rows] == [
        ["0", "0", "0"],
        ["0", "1", "1"],
        ["1", "0", "1"],
        ["1", "1", "0"],
    ]
    for row in rows:
        # A trained network drives each logistic output close to its 0/1 target.
        assert abs(float(row[3]) - float(row[2])) < 0.1


def test_cli_demo_output():
    result = run_fastmlp("demo", "--epochs", "3", "--threads", "1")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.split()[0] == "epoch"))
    assert lines[header].split() == ["epoch", "loss", "val_acc", "elapsed_s"]
    epoch_rows = [line.split() for line in lines[header + 1 : header + 4]]
    assert [row[0] for row in epoch_rows] == ["1", "2", "3"]
    losses = [float(row[1]) for row in epoch_rows]
    assert losses[2] < losses[0]
    assert all(0.0 <= float(row[2]) <= 1.0 for row in epoch_rows)

    accuracy = re.fullmatch(r"test accuracy: (\d\.\d+)", lines[-2])
    assert accuracy is not None, lines[-2]
    # Three epochs already separate most digits.
    assert float(accuracy.group(1)) > 0.9
    throughput = re.match(r"throughput: ([\d,]+) samples/s \((\d+) samples", lines[-1])
    assert throughput is not None, lines[-1]
    assert int(throughput.group(1).replace(",", "")) > 0
    # 3 epochs over the training split of 1293 digits.
    assert int(throughput.group(2)) == 3 * 1293


def test_cli_demo_accepts_every_option():
    result = run_fastmlp(
        "demo",
        "--epochs",
        "2",
        "--hidden",
        "32",
        "16",
        "--batch-size",
        "64",
        "--learning-rate",
        "0.05",
        "--seed",
        "3",
        "--threads",
        "2",
    )

    assert result.returncode == 0, result.stderr
    assert "hidden layers (32, 16), batch size 64, learning rate 0.05" in result.stdout
    assert "test accuracy:" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--epochs", "0"], "must be an integer >= 1, got '0'"),
        (["demo", "--learning-rate", "-1"], "must be a number > 0, got '-1'"),
        (["xor", "--threads", "0"], "must be an integer >= 1, got '0'"),
        ([], "the following arguments are required: command"),
    ],
)
def test_cli_rejects_bad_arguments(args, message):
    result = run_fastmlp(*args)

    assert result.returncode == 2
    assert message in result.stderr


def test_cli_help_lists_commands():
    result = run_fastmlp("--help")

    assert result.returncode == 0
    assert "demo" in result.stdout
    assert "xor" in result.stdout
