"""Inference of the 784-256-128-10 MLP: throughput at batch 10,000, latency at batch 1.

Contenders: fastmlp.MLP.forward, PyTorch under torch.no_grad() (model.eval()),
and fastmlp.reference.MLP.forward, all in float32 with the same weights.

Run ``python bench/inference.py [--quick|--full]`` for these tables alone.
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
from train import SIZES, WEIGHT_COUNT, make_dataset, torch_model

import fastmlp
from fastmlp import reference

THROUGHPUT_BATCH = 10_000
FLOPS_PER_SAMPLE = 2 * WEIGHT_COUNT  # forward pass only
THREAD_COUNTS = (1, 2)
LABELS = {
    "fastmlp": "fastmlp",
    "torch": "PyTorch (no_grad)",
    "reference": "NumPy reference",
}

THROUGHPUT_COLUMNS = [
    "threads",
    "contender",
    "s/call",
    "samples/s",
    "samples/s min–max",
    "GFLOP/s",
    "% FMA peak",
    "max abs diff vs reference",
]
LATENCY_COLUMNS = [
    "threads",
    "contender",
    "µs/call",
    "µs/call min–max",
    "calls/repeat",
    "max abs diff vs reference",
]


def make_models():
    """Return fastmlp, float32 reference and (if installed) PyTorch models, same "
    "weights."""
    net = fastmlp.MLP(SIZES, seed=0)
    rng = np.random.default_rng(3)
    net.biases = [rng.uniform(-0.1, 0.1, n) for n in SIZES[1:]]
    ref = reference.MLP(SIZES, dtype="float32", seed=0)
    ref.weights, ref.biases = net.weights, net.biases
    models = {"fastmlp": net, "reference": ref}
    if importlib.util.find_spec("torch") is not None:
        import torch

        model = torch_model(np.float32).eval()
        linear = [layer for layer in model if isinstance(layer, torch.nn.Linear)]
        with torch.no_grad():
            for layer, W, b in zip(linear, net.weights, net.biases):
                layer.weight.copy_(torch.tensor(W))
                layer.bias.copy_(torch.tensor(b))
        models["torch"] = model
    return models


def predictor(name, model, threads):
    """Return predict(X) -> probabilities as a NumPy array."""
    if name == "fastmlp":
        model.n_threads = threads
        return model.forward
    if name == "reference":
        return model.forward
    import torch

    def predict(X):
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()

    return predict


def max_differences(net, predictors, X):
    """Return each contender's max abs difference from a float64 reference of net."""
    ref = float64_reference(net)
    want = ref.forward(X.astype(np.float64))
    return {name: float(np.max(np.abs(p(X) - want))) for name, p in predictors.items()}


def batch_runner(predict, X):
    """Return run(units) calling predict on X until at least `units` rows are done."""

    def run(units):
        calls = max(1, -(-units // len(X)))
        for _ in range(calls):
            predict(X)
        return calls * len(X)

    return run


def benchmark_inference(models, batch_size, repeats, target_seconds):
    """Return {threads: (measurements, differences)} at one batch size."""
    X = make_dataset(batch_size).X
    results = {}
    for threads in THREAD_COUNTS:
        with thread_limits(threads):
            predictors = {
                name: predictor(name, m, threads) for name, m in models.items()
            }
            differences = max_differences(models["fastmlp"], predictors, X)
            runs = {name: batch_runner(p, X) for name, p in predictors.items()}
            results[threads] = (
                time_interleaved(runs, repeats, target_seconds),
                differences,
            )
    return results


def throughput_rows(results, peaks):
    """Return one row per thread count and contender for batch 10,000."""
    rows = []
    for threads, (measurements, differences) in results.items():
        peak = peaks.get(threads)
        for name, m in measurements.items():
            gflops = m.rate * FLOPS_PER_SAMPLE * 1e-9
            rows.append(
                [
                    threads,
                    LABELS[name],
                    format_number(m.median_seconds * THROUGHPUT_BATCH / m.units),
                    format_number(m.rate),
                    format_range(*m.rate_range),
                    format_number(gflops),
                    format_number(100 * gflops / peak if peak else None),
                    format_number(differences[name]),
                ]
            )
    return rows


def latency_rows(results):
    """Return one row per thread count and contender for batch 1."""
    rows = []
    for threads, (measurements, differences) in results.items():
        for name, m in measurements.items():
            fastest, slowest = m.rate_range[1], m.rate_range[0]
            rows.append(
                [
                    threads,
                    LABELS[name],
                    format_number(1e6 / m.rate),
                    format_range(1e6 / fastest, 1e6 / slowest),
                    f"{m.units:,}",
                    format_number(differences[name]),
                ]
            )
    return rows


def run_inference(report, peaks, quick):
    """Time inference throughput and latency and add both tables to report.

    Returns (throughput, latency), each {threads: (measurements, differences)}.
    """
    repeats, target = (5, 0.05) if quick else (7, 0.3)
    models = make_models()
    skipped = [] if "torch" in models else ["PyTorch skipped: torch is not installed."]
    throughput = benchmark_inference(models, THROUGHPUT_BATCH, repeats, target)
    common = [
        (
            f"Median of {repeats} repeats of about {target} s each, contenders "
            "interleaved; threads set as in the training table."
        ),
        (
            "max abs diff vs reference: output probabilities against the float64 "
            "reference with the same (float32-rounded) weights, before timing."
        ),
        *skipped,
    ]
    report.add(
        f"Inference throughput (batch {THROUGHPUT_BATCH:,}, float32)",
        markdown_table(THROUGHPUT_COLUMNS, throughput_rows(throughput, peaks)),
        [f"Flops per sample = 2 x {WEIGHT_COUNT:,} (forward pass only).", *common],
    )
    latency = benchmark_inference(models, 1, repeats, target)
    report.add(
        "Inference latency (batch 1, float32)",
        markdown_table(LATENCY_COLUMNS, latency_rows(latency)),
        [
            "µs/call: wall time of one call on a single row, Python overhead included.",
            *common,
        ],
    )
    return throughput, latency


def main():
    args = start_benchmark(__doc__)
    from fma_peak import measure_peaks

    run_inference(Report(), measure_peaks()["peaks"], not args.full)


if __name__ == "__main__":
    main()
