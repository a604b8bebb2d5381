"""Per-step cost on a tiny network: XOR with a 2-4-1 MLP, one sample per SGD step.

At this size the arithmetic is negligible and the figure measures each
library's fixed cost per step. Contenders: fastmlp.MLP.fit, PyTorch (a Python
loop over steps) and fastmlp.reference.MLP.fit, float32, logistic hidden layer
and logistic output with binary cross-entropy, learning rate 0.5.

Run ``python bench/xor.py [--quick|--full]`` for this table alone.
"""

import importlib.util

import numpy as np
from harness import (
    Report,
    float64_reference,
    format_number,
    format_range,
    markdown_table,
    start_benchmark,
    thread_limits,
    time_interleaved,
)

import fastmlp
from fastmlp import reference

SIZES = (2, 4, 1)
LEARNING_RATE = 0.5
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
THREAD_COUNTS = (1, 2)
LABELS = {"fastmlp": "fastmlp", "torch": "PyTorch", "reference": "NumPy reference"}
COLUMNS = [
    "threads",
    "contender",
    "µs/step",
    "µs/step min–max",
    "steps/s",
    "steps/repeat",
    "÷ fastmlp (time)",
    "max abs diff vs reference",
]


def _epochs(units):
    return max(1, -(-units // len(X)))


def fit_stepper(net):
    """Return run(units) taking at least `units` SGD steps by net.fit."""

    def run(units):
        epochs = _epochs(units)
        net.fit(X, Y, epochs=epochs, batch_size=1, learning_rate=LEARNING_RATE)
        return epochs * len(X)

    return run


def fastmlp_stepper(threads):
    """Return run(units) taking at least `units` SGD steps with fastmlp."""
    net = fastmlp.MLP(
        SIZES, activation="logistic", output="logistic", seed=0, n_threads=threads
    )
    return fit_stepper(net)


def reference_stepper(threads):
    """Return run(units) taking at least `units` SGD steps with the reference."""
    net = reference.MLP(SIZES, activation="logistic", output="logistic", seed=0)
    return fit_stepper(net)


def torch_stepper(threads):
    """Return run(units) taking at least `units` SGD steps with PyTorch."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_function = nn.BCEWithLogitsLoss()
    inputs, targets = torch.from_numpy(X), torch.from_numpy(Y)

    def run(units):
        epochs = _epochs(units)
        for _ in range(epochs):
            for i in torch.randperm(len(X)).tolist():
                optimizer.zero_grad(set_to_none=True)
                loss = loss_function(model(inputs[i : i + 1]), targets[i : i + 1])
                loss.backward()
                optimizer.step()
        return epochs * len(X)

    return run


def check_gradients(threads):
    """Return max abs difference of fastmlp's loss and gradients from the reference."""
    net = fastmlp.MLP(
        SIZES, activation="logistic", output="logistic", seed=0, n_threads=threads
    )
    ref = float64_reference(net)
    loss, dW, db = net.gradients(X, Y)
    ref_loss, ref_dW, ref_db = ref.gradients(X.astype(np.float64), Y.astype(np.float64))
    diffs = [np.max(np.abs(a - b)) for a, b in zip(dW + db, ref_dW + ref_db)]
    return float(max(abs(loss - ref_loss), *diffs))


def benchmark_xor(repeats, target_seconds):
    """Return {threads: (measurements, check)} for every installed contender."""
    makers = {
        "fastmlp": fastmlp_stepper,
        "torch": torch_stepper,
        "reference": reference_stepper,
    }
    if importlib.util.find_spec("torch") is None:
        del makers["torch"]
    results = {}
    for threads in THREAD_COUNTS:
        with thread_limits(threads):
            check = check_gradients(threads)
            runs = {name: make(threads) for name, make in makers.items()}
            results[threads] = (time_interleaved(runs, repeats, target_seconds), check)
    return results


def xor_rows(results):
    """Return one row per thread count and contender."""
    rows = []
    for threads, (measurements, check) in results.items():
        base = measurements["fastmlp"].rate
        for name, m in measurements.items():
            slowest, fastest = m.rate_range
            rows.append(
                [
                    threads,
                    LABELS[name],
                    format_number(1e6 / m.rate),
                    format_range(1e6 / fastest, 1e6 / slowest),
                    format_number(m.rate),
                    f"{m.units:,}",
                    format_number(base / m.rate),
                    format_number(check) if name == "fastmlp" else "–",
                ]
            )
    return rows


def run_xor(report, quick):
    """Time SGD steps on XOR and add the table to report."""
    repeats, target = (5, 0.05) if quick else (7, 0.3)
    results = benchmark_xor(repeats, target)
    notes = [
        (
            "One step = one sample: forward, backward and update of a 2-4-1 network. "
            "fastmlp and the reference run whole epochs in one fit call; PyTorch runs "
            "a Python loop of zero_grad, forward, BCEWithLogitsLoss, backward, step."
        ),
        (
            f"Median of {repeats} repeats of about {target} s each, contenders "
            "interleaved. '÷ fastmlp (time)': the contender's time per step over "
            "fastmlp's (above 1: fastmlp is faster)."
        ),
        (
            "max abs diff vs reference: fastmlp's loss and gradients on the 4 samples "
            "against the float64 reference on the same weights, before timing."
        ),
    ]
    if importlib.util.find_spec("torch") is None:
        notes.append("PyTorch skipped: torch is not installed.")
    report.add(
        "XOR 2-4-1, batch 1: time per SGD step",
        markdown_table(COLUMNS, xor_rows(results)),
        notes,
    )
    return results


def main():
    args = start_benchmark(__doc__)
    run_xor(Report(), not args.full)


if __name__ == "__main__":
    main()
