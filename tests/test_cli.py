"""The ``python -m fastmlp`` commands, run as a user would run them."""

import os
import re
import signal
import subprocess
import sys
import threading

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


def test_cli_xor_needs_hidden_layer(tmp_path):
    picture = tmp_path / "xor.png"
    result = run_fastmlp("xor", "--quick", "--output", str(picture))

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    # One logistic unit draws one line, which gets at most 3 of 4 patterns.
    linear = re.fullmatch(r"no hidden layer \(2-1\): accuracy (\S+)", lines[0])
    assert linear is not None, lines[0]
    assert float(linear.group(1)) < 1.0
    assert "one hidden layer (2-2-1): accuracy 1.00" in lines
    table = lines.index("one hidden layer (2-2-1): accuracy 1.00") + 1
    assert lines[table].split() == ["x1", "x2", "target", "output"]
    rows = [line.split() for line in lines[table + 1 : table + 5]]
    assert [row[:3] for row in rows] == [
        ["0", "0", "0"],
        ["0", "1", "1"],
        ["1", "0", "1"],
        ["1", "1", "0"],
    ]
    assert picture.stat().st_size > 0


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
        (["speed", "--threads", "0"], "must be an integer >= 1, got '0'"),
        (["xor", "--output", "xor.txt"], "must be a file name ending in .png"),
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
    for command in ("demo", "xor", "overfit", "approximate", "speed", "prune"):
        assert command in result.stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX signals")
def test_cli_demo_ctrl_c_prints_results_so_far():
    process = subprocess.Popen(
        [sys.executable, "-m", "fastmlp", "demo", "--epochs", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    # Kill the demo if it hangs, so the reads below cannot block forever.
    watchdog = threading.Timer(120, process.kill)
    watchdog.start()
    try:
        # Wait for the row of epoch 3, so the signal arrives during training.
        lines = []
        while not lines or lines[-1].split()[:1] != ["3"]:
            line = process.stdout.readline()
            assert line, f"demo ended before epoch 3: {lines}"
            lines.append(line)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate()
    finally:
        watchdog.cancel()
        process.kill()
        process.wait()

    assert process.returncode == 0, stderr
    output = stdout.splitlines()
    interrupted = re.fullmatch(
        r"training interrupted by Ctrl-C after (\d+) of 100000 epochs; "
        "results so far:",
        output[-3],
    )
    assert interrupted is not None, output[-3:]
    epochs_done = int(interrupted.group(1))
    assert epochs_done >= 3
    assert re.fullmatch(r"test accuracy: \d\.\d+", output[-2]) is not None
    throughput = re.match(r"throughput: [\d,]+ samples/s \((\d+) samples", output[-1])
    assert throughput is not None, output[-1]
    # The throughput counts the epochs trained, not the 100000 requested.
    assert int(throughput.group(1)) == epochs_done * 1293
    assert "Traceback" not in stderr


def test_cli_demo_divergence_prints_one_line():
    result = run_fastmlp("demo", "--epochs", "3", "--learning-rate", "1e9")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    message = result.stderr.strip().splitlines()
    assert len(message) == 1, result.stderr
    assert message[0].startswith("error: SGD diverged in epoch 1 with learning rate")
    assert message[0].endswith("lower --learning-rate")


def test_cli_demo_reaches_accuracy():
    # The README's main command, with its defaults, must reach 0.97 test
    # accuracy on the held-out digits.
    result = run_fastmlp("demo")

    assert result.returncode == 0, result.stderr
    match = re.search(r"test accuracy: ([0-9.]+)", result.stdout)
    assert match is not None, result.stdout
    assert float(match.group(1)) >= 0.97
    assert "samples/s" in result.stdout
