"""Training throughput of a 784-256-128-10 MLP: fastmlp against its peers.

Contenders, timed in one process with their repeats interleaved: fastmlp.MLP.fit,
the NumPy reference (fastmlp.reference.MLP.fit), PyTorch on the CPU and
scikit-learn's MLPClassifier. Beside them runs the "GEMM-only ceiling": NumPy
doing nothing but the matrix products of the same training step.

Run ``python bench/train.py [--quick|--full]`` for these tables alone.
"""

import importlib.util
from dataclasses import dataclass

import numpy as np
from harness import (
    Report,
    describe_thread_pools,
    float64_reference,
    format_number,
    format_range,
    markdown_table,
    seeded_rng,
    start_benchmark,
    thread_limits,
    time_interleaved,
)

import fastmlp
from fastmlp import reference

SIZES = (784, 256, 128, 10)
LEARNING_RATE = 0.01
L2 = 1e-4
DROPOUT = 0.2  # after each hidden layer; the input is not dropped

WEIGHT_COUNT = sum(n_in * n_out for n_in, n_out in zip(SIZES, SIZES[1:]))
# The products a training step needs, 2 n_in n_out flops per sample each:
# forward and dW for every layer, dA for every layer but the first (nothing
# needs the gradient of the input).
GEMM_FLOPS_PER_SAMPLE = 2 * (3 * WEIGHT_COUNT - SIZES[0] * SIZES[1])
FLOPS_PER_SAMPLE = GEMM_FLOPS_PER_SAMPLE

BATCH_SIZES = (1, 32, 128, 1024)
QUICK_BATCH_SIZES = (1, 128)
THREAD_COUNTS = (1, 2)
CONTENDERS = ("fastmlp", "reference", "torch", "sklearn")
CEILINGS = ("gemm_only", "gemm_only_allocating")
LABELS = {
    "fastmlp": "fastmlp",
    "reference": "NumPy reference",
    "torch": "PyTorch",
    "sklearn": "scikit-learn (no dropout)",
    "gemm_only": "GEMM-only ceiling (NumPy)",
    "gemm_only_allocating": "GEMM-only, allocating",
}

COLUMNS = [
    "batch",
    "threads",
    "contender",
    "samples/repeat",
    "s/repeat",
    "samples/s",
    "samples/s min–max",
    "GFLOP/s",
    "% FMA peak",
    "% GEMM-only",
    "page faults/batch",
    "max abs diff vs reference",
]
RATIO_COLUMNS = [
    "batch",
    "threads",
    "fastmlp samples/s",
    "× reference",
    "× PyTorch",
    "× scikit-learn",
    "% FMA peak",
    "% GEMM-only",
]
CEILING_COLUMNS = [
    "batch",
    "threads",
    "µs/step",
    "samples/s",
    "GFLOP/s",
    "page faults/step",
    "allocating: samples/s",
    "allocating: page faults/step",
]


# Data -----------------------------------------------------------------------------


@dataclass
class Dataset:
    """Synthetic classification data: X, class labels and one-hot targets Y."""

    X: np.ndarray
    labels: np.ndarray
    Y: np.ndarray

    def take(self, units, batch_size):
        """Return (rows, epochs) covering at least `units` samples in whole batches.

        Up to the pool size one epoch over the first `rows` samples; beyond it,
        several epochs over the whole pool (cut to whole batches).
        """
        pool_rows = len(self.X) // batch_size * batch_size
        rows = max(batch_size, -(-units // batch_size) * batch_size)
        if rows <= pool_rows:
            return rows, 1
        return pool_rows, -(-units // pool_rows)


def make_dataset(n_samples, dtype=np.float32, seed=0):
    """Return n_samples of 10 Gaussian classes in 784 dimensions, seeded."""
    rng = seeded_rng(seed)
    n_in, n_classes = SIZES[0], SIZES[-1]
    labels = rng.integers(0, n_classes, n_samples)
    centers = rng.standard_normal((n_classes, n_in), dtype=np.float32)
    X = rng.standard_normal((n_samples, n_in), dtype=np.float32)
    X += 0.5 * centers[labels]
    Y = np.eye(n_classes, dtype=dtype)[labels]
    return Dataset(X.astype(dtype, copy=False), labels, Y)


# Contenders: each returns run(units) -> samples trained --------------------------


def fit_runner(net, data, batch_size):
    """Return a run() training net by its fit method, which both MLP classes share."""

    def run(units):
        rows, epochs = data.take(units, batch_size)
        net.fit(
            data.X[:rows],
            data.Y[:rows],
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=LEARNING_RATE,
            l2=L2,
            dropout=DROPOUT,
        )
        return rows * epochs

    return run


def fastmlp_trainer(data, batch_size, threads):
    """Return a run() training fastmlp.MLP with n_threads=threads."""
    net = fastmlp.MLP(SIZES, dtype=data.X.dtype, seed=0, n_threads=threads)
    return fit_runner(net, data, batch_size)


def reference_trainer(data, batch_size, threads):
    """Return a run() training fastmlp.reference.MLP (threads set by the caller)."""
    net = reference.MLP(SIZES, dtype=data.X.dtype, seed=0)
    return fit_runner(net, data, batch_size)


def torch_model(dtype):
    """Return the PyTorch network: Linear, ReLU and Dropout after each hidden layer."""
    import torch
    from torch import nn

    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    layers = []
    for n_in, n_out in zip(SIZES[:-2], SIZES[1:-1]):
        layers += [
            nn.Linear(n_in, n_out, dtype=torch_dtype),
            nn.ReLU(),
            nn.Dropout(DROPOUT),
        ]
    layers.append(nn.Linear(SIZES[-2], SIZES[-1], dtype=torch_dtype))
    return nn.Sequential(*layers)


def torch_trainer(data, batch_size, threads):
    """Return a run() training with torch.optim.SGD (threads set by the caller)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = torch_model(data.X.dtype)
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in model.named_parameters() if name.endswith("bias")]
    # weight_decay adds L2 * W to the gradient, as fastmlp's l2 does; biases get none.
    optimizer = torch.optim.SGD(
        [
            {"params": weights, "weight_decay": L2},
            {"params": biases, "weight_decay": 0.0},
        ],
        lr=LEARNING_RATE,
        momentum=0.0,
    )
    loss_function = nn.CrossEntropyLoss()
    X = torch.from_numpy(data.X)
    labels = torch.from_numpy(data.labels)
    model.train()

    def run(units):
        rows, epochs = data.take(units, batch_size)
        for _ in range(epochs):
            order = torch.randperm(rows)
            for start in range(0, rows, batch_size):
                index = order[start : start + batch_size]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_function(model(X[index]), labels[index])
                loss.backward()
                optimizer.step()
        return rows * epochs

    return run


def sklearn_trainer(data, batch_size, threads):
    """Return a run() training MLPClassifier by partial_fit, one call per epoch."""
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1],
        activation="relu",
        solver="sgd",
        # scikit-learn divides alpha by the batch's rows; this matches l2 = L2.
        alpha=L2 * batch_size,
        batch_size=batch_size,
        learning_rate="constant",
        learning_rate_init=LEARNING_RATE,
        momentum=0.0,
        nesterovs_momentum=False,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    classes = np.arange(SIZES[-1])

    def run(units):
        rows, epochs = data.take(units, batch_size)
        for _ in range(epochs):
            model.partial_fit(data.X[:rows], data.labels[:rows], classes=classes)
        return rows * epochs

    return run


def gemm_only_step(data, batch_size, allocate):
    """Return a run() doing only one training step's matrix products in NumPy.

    Per step: Z_l = A_{l-1} W_l^T for each layer, dW_l = dZ_l^T A_{l-1} for each
    layer, and dA_{l-1} = dZ_l W_l for every layer but the first. With
    allocate=False the products write into buffers made once (the ceiling);
    with allocate=True each product returns a new array, as NumPy code does.
    """
    rng = seeded_rng(1)
    dtype = data.X.dtype
    W = [
        rng.standard_normal((n_out, n_in)).astype(dtype)
        for n_in, n_out in zip(SIZES, SIZES[1:])
    ]
    A = [rng.standard_normal((batch_size, n)).astype(dtype) for n in SIZES[:-1]]
    dZ = [rng.standard_normal((batch_size, n)).astype(dtype) for n in SIZES[1:]]
    products = [(A[l], W[l].T) for l in range(len(W))]
    products += [(dZ[l].T, A[l]) for l in range(len(W))]
    products += [(dZ[l], W[l]) for l in range(1, len(W))]
    outputs = [np.empty((a.shape[0], b.shape[1]), dtype) for a, b in products]

    def run(units):
        steps = max(1, -(-units // batch_size))
        for _ in range(steps):
            if allocate:
                for a, b in products:
                    a @ b
            else:
                for (a, b), out in zip(products, outputs):
                    np.matmul(a, b, out=out)
        return steps * batch_size

    return run


TRAINERS = {
    "fastmlp": fastmlp_trainer,
    "reference": reference_trainer,
    "torch": torch_trainer,
    "sklearn": sklearn_trainer,
    "gemm_only": lambda data, batch_size, threads: gemm_only_step(
        data, batch_size, False
    ),
    "gemm_only_allocating": lambda data, batch_size, threads: gemm_only_step(
        data, batch_size, True
    ),
}


# Check, then time -----------------------------------------------------------------


def check_against_reference(data, batch_size, threads):
    """Return max abs differences (forward, gradients) of fastmlp vs the reference.

    Both models hold the same weights; the reference computes in float64 from
    the float32-rounded values, and the gradients use fastmlp's dropout masks.
    """
    net = fastmlp.MLP(SIZES, dtype=data.X.dtype, seed=0, n_threads=threads)
    rng = seeded_rng(2)
    net.biases = [rng.uniform(-0.1, 0.1, n) for n in SIZES[1:]]
    ref = float64_reference(net)
    X, Y = data.X[:batch_size], data.Y[:batch_size]

    forward_diff = np.max(np.abs(net.forward(X) - ref.forward(X.astype(np.float64))))
    masks = net.dropout_masks(0, 0, batch_size, DROPOUT)
    loss, dW, db = net.gradients(X, Y, dropout=DROPOUT, masks=masks)
    ref_loss, ref_dW, ref_db = ref.gradients(
        X.astype(np.float64), Y.astype(np.float64), dropout=DROPOUT, masks=masks
    )
    gradient_diff = max(
        abs(loss - ref_loss),
        *(np.max(np.abs(a - b)) for a, b in zip(dW + db, ref_dW + ref_db)),
    )
    return float(forward_diff), float(gradient_diff)


@dataclass
class Case:
    """Results of one batch size and thread count."""

    batch_size: int
    threads: int
    measurements: dict
    check: tuple
    thread_pools: str


def benchmark_training(
    data,
    batch_sizes,
    thread_counts,
    contenders,
    repeats,
    target_seconds,
    ceilings=CEILINGS,
):
    """Check fastmlp, then time every contender at each batch size and thread count.

    Returns a list of Case, thread counts in the outer loop.
    """
    cases = []
    for threads in thread_counts:
        for batch_size in batch_sizes:
            with thread_limits(threads):
                check = check_against_reference(data, batch_size, threads)
                names = list(contenders) + list(ceilings)
                runs = {
                    name: TRAINERS[name](data, batch_size, threads) for name in names
                }
                measurements = time_interleaved(runs, repeats, target_seconds)
                pools = describe_thread_pools()
            cases.append(Case(batch_size, threads, measurements, check, pools))
    return cases


# Tables ---------------------------------------------------------------------------


def _percent(part, whole):
    return None if not whole else 100.0 * part / whole


def _peak(peaks, threads, dtype):
    """Return the FMA peak in GFLOP/s; float64 vectors hold half as many lanes."""
    peak = peaks.get(threads)
    if peak is None:
        return None
    return peak / 2 if np.dtype(dtype) == np.float64 else peak


def training_rows(cases, peaks, dtype=np.float32):
    """Return one table row per contender and case, in COLUMNS order."""
    rows = []
    for case in cases:
        ceiling = case.measurements.get("gemm_only")
        peak = _peak(peaks, case.threads, dtype)
        for name, m in case.measurements.items():
            if name in CEILINGS:
                continue
            gflops = m.rate * FLOPS_PER_SAMPLE * 1e-9
            check = "–"
            if name == "fastmlp":
                check = "forward {}, gradients {}".format(
                    *map(format_number, case.check)
                )
            rows.append(
                [
                    case.batch_size,
                    case.threads,
                    LABELS[name],
                    f"{m.units:,}",
                    format_number(m.median_seconds),
                    format_number(m.rate),
                    format_range(*m.rate_range),
                    format_number(gflops),
                    format_number(_percent(gflops, peak)),
                    format_number(_percent(m.rate, ceiling.rate if ceiling else None)),
                    format_number(m.median_page_faults * case.batch_size / m.units),
                    check,
                ]
            )
    return rows


def ratio_rows(cases, peaks, dtype=np.float32):
    """Return fastmlp's speed relative to each peer, one row per case."""
    rows = []
    for case in cases:
        m = case.measurements
        if "fastmlp" not in m:
            continue
        rate = m["fastmlp"].rate
        peak = _peak(peaks, case.threads, dtype)
        ratios = [
            format_number(rate / m[peer].rate) if peer in m else "–"
            for peer in ("reference", "torch", "sklearn")
        ]
        ceiling = m["gemm_only"].rate if "gemm_only" in m else None
        rows.append(
            [
                case.batch_size,
                case.threads,
                format_number(rate),
                *ratios,
                format_number(_percent(rate * FLOPS_PER_SAMPLE * 1e-9, peak)),
                format_number(_percent(rate, ceiling)),
            ]
        )
    return rows


def ceiling_rows(cases):
    """Return the GEMM-only ceiling, preallocated and allocating, per case."""
    rows = []
    for case in cases:
        m = case.measurements
        if "gemm_only" not in m:
            continue
        ceiling = m["gemm_only"]
        steps = ceiling.units / case.batch_size
        allocating = m.get("gemm_only_allocating")
        rows.append(
            [
                case.batch_size,
                case.threads,
                format_number(ceiling.median_seconds / steps * 1e6),
                format_number(ceiling.rate),
                format_number(ceiling.rate * GEMM_FLOPS_PER_SAMPLE * 1e-9),
                format_number(ceiling.median_page_faults / steps),
                format_number(allocating.rate) if allocating else "–",
                format_number(
                    allocating.median_page_faults * case.batch_size / allocating.units
                )
                if allocating
                else "–",
            ]
        )
    return rows


def thread_notes(cases):
    """Return one line per thread count with threadpoolctl's view inside the limit."""
    seen = {}
    for case in cases:
        seen.setdefault(case.threads, case.thread_pools)
    return [
        f"threads={threads}: threadpool_limits({threads}) around the case, fastmlp "
        f"n_threads={threads}, torch.set_num_threads({threads}); threadpoolctl "
        f"then reports: {pools}"
        for threads, pools in seen.items()
    ]


MEMORY_NOTE = (
    "NumPy's malloc behaviour: NumPy caches only data blocks under 1 KiB, so every "
    "larger temporary goes through malloc and free. glibc serves a block above its "
    "mmap threshold (128 KiB at start) with mmap and unmaps it on free, so the "
    "next step faults those pages in again. Each such free raises the threshold "
    "to the freed size (up to 32 MiB on 64-bit Linux), after which temporaries of "
    "that size come from the heap and are reused, unless glibc trims the heap top. "
    "The page-fault columns measure which of these happens: minor faults of the "
    "whole process (getrusage) per batch, median over the repeats."
)


def page_fault_note(cases):
    """Return a sentence naming the largest page-fault count per batch measured."""
    worst = None
    for case in cases:
        for name, m in case.measurements.items():
            per_batch = m.median_page_faults * case.batch_size / m.units
            if worst is None or per_batch > worst[0]:
                worst = (per_batch, name, case.batch_size, case.threads)
    if worst is None:
        return "No page faults were measured."
    per_batch, name, batch_size, threads = worst
    return (
        f"Largest count in this run: {format_number(per_batch)} minor faults per "
        f"batch ({LABELS[name]}, batch {batch_size}, {threads} thread(s))."
    )


def add_training_sections(report, cases, peaks, repeats, target_seconds, skipped=()):
    """Add the float32 training tables (all contenders, ratios, ceiling) to report."""
    notes = [
        (
            "Model: 784-256-128-10, relu hidden layers, softmax output with "
            "cross-entropy, dropout 0.2 after each hidden layer (not on the input), L2 "
            "1e-4 on weights (not biases), SGD with learning rate 0.01 and no "
            "momentum, float32; synthetic data (10 Gaussian classes, seed 0); every "
            "contender shuffles each epoch."
        ),
        (
            "Flops per training sample = 2 x (3 x (784*256 + 256*128 + 128*10) - "
            f"784*256) = {FLOPS_PER_SAMPLE:,}: forward and dW for every layer, dA "
            "for every layer but the first, which no step needs; GFLOP/s = "
            "samples/s x that / 1e9 for every contender."
        ),
        (
            f"Each figure: median of {repeats} repeats and the min–max range, in "
            "samples/s. A repeat trains a fixed number of samples (samples/repeat), "
            f"calibrated after a warm-up so that it takes about {target_seconds} s. "
            "Slow contenders get fewer samples, so none is skipped or capped. The "
            "contenders' repeats are interleaved, so ratios within one case are the "
            "fair figures."
        ),
        (
            "% GEMM-only: samples/s divided by the GEMM-only ceiling's, the rate at "
            "which NumPy alone does that step's matrix products."
        ),
        (
            "PyTorch: nn.Sequential of Linear, ReLU and Dropout, CrossEntropyLoss, "
            "torch.optim.SGD with weight_decay 1e-4 on weights only; batches are "
            "gathered by a torch.randperm index."
        ),
        (
            "scikit-learn: MLPClassifier(solver='sgd', alpha=1e-4 x batch size, "
            "because it divides alpha by the batch's rows; learning_rate_init=0.01, "
            "momentum=0), one partial_fit call per epoch, so tol and n_iter_no_change "
            "never stop it. It has no dropout, so it does slightly less work per "
            "sample."
        ),
        (
            "max abs diff vs reference: fastmlp against the float64 reference on the "
            "same weights at that batch size, forward outputs and loss/gradients "
            "(with fastmlp's dropout masks), computed before timing."
        ),
        *thread_notes(cases),
        MEMORY_NOTE,
        page_fault_note(cases),
        *skipped,
    ]
    report.add(
        "Training throughput (float32)",
        markdown_table(COLUMNS, training_rows(cases, peaks)),
        notes,
    )
    report.add(
        "fastmlp against its peers",
        markdown_table(RATIO_COLUMNS, ratio_rows(cases, peaks)),
        [
            (
                "× peer: fastmlp's samples/s divided by the peer's, same case (above "
                "1: fastmlp is faster)."
            )
        ],
    )
    report.add(
        "GEMM-only ceiling",
        markdown_table(CEILING_COLUMNS, ceiling_rows(cases)),
        [
            (
                "NumPy matmul of one training step's 8 products (forward 3, dW 3, dA "
                f"2): {GEMM_FLOPS_PER_SAMPLE:,} flops per sample, into preallocated "
                "outputs (out=); 'allocating' returns a new array per product, as "
                "plain NumPy code does."
            ),
            (
                "At batch 1 the three dW products are outer products (k = 1), which "
                "NumPy hands to OpenBLAS's general GEMM; it runs them slowly, so the "
                "ceiling is low there and other code can beat it."
            ),
        ],
    )


def add_float64_section(report, cases, peaks, repeats, target_seconds, skipped=()):
    """Add the float64 table to report."""
    notes = [
        (
            "Same model, data and settings as the float32 table, in float64 "
            "(PyTorch: the model in torch.float64); no scikit-learn."
        ),
        (
            "% FMA peak uses half the float32 peak: a vector holds half as many "
            "float64 lanes."
        ),
        f"Median of {repeats} repeats of about {target_seconds} s each.",
        *thread_notes(cases),
        *skipped,
    ]
    report.add(
        "Training throughput (float64, batch 128)",
        markdown_table(COLUMNS, training_rows(cases, peaks, np.float64)),
        notes,
    )


# Entry points ---------------------------------------------------------------------


def settings(quick):
    """Return the sweep of --quick (reduced, the default) or of --full."""
    if quick:
        return {
            "batch_sizes": QUICK_BATCH_SIZES,
            "repeats": 5,
            "target_seconds": 0.06,
            "pool_rows": 8192,
        }
    return {
        "batch_sizes": BATCH_SIZES,
        "repeats": 7,
        "target_seconds": 0.3,
        "pool_rows": 32768,
    }


def installed(contenders):
    """Return the contenders whose package imports, and a note for each missing one."""
    packages = {"torch": "torch", "sklearn": "sklearn"}
    kept, notes = [], []
    for name in contenders:
        package = packages.get(name)
        if package is not None and importlib.util.find_spec(package) is None:
            notes.append(f"{LABELS[name]} skipped: {package} is not installed.")
        else:
            kept.append(name)
    return kept, notes


def run_training(report, peaks, quick, contenders=CONTENDERS):
    """Run the float32 sweep and add its tables; return the cases."""
    s = settings(quick)
    contenders, skipped = installed(contenders)
    data = make_dataset(s["pool_rows"])
    cases = benchmark_training(
        data,
        s["batch_sizes"],
        THREAD_COUNTS,
        contenders,
        s["repeats"],
        s["target_seconds"],
    )
    add_training_sections(
        report, cases, peaks, s["repeats"], s["target_seconds"], skipped
    )
    return cases


def run_float64(report, peaks, quick, contenders=("fastmlp", "reference", "torch")):
    """Run float64 training at batch 128 and add its table; return the cases."""
    s = settings(quick)
    contenders, skipped = installed(contenders)
    data = make_dataset(s["pool_rows"] // 2, dtype=np.float64)
    cases = benchmark_training(
        data, (128,), THREAD_COUNTS, contenders, s["repeats"], s["target_seconds"], ()
    )
    add_float64_section(
        report, cases, peaks, s["repeats"], s["target_seconds"], skipped
    )
    return cases


def main():
    args = start_benchmark(__doc__)
    from fma_peak import add_to_report, measure_peaks

    report = Report()
    peak_result = measure_peaks()
    add_to_report(report, peak_result)
    run_training(report, peak_result["peaks"], not args.full)
    run_float64(report, peak_result["peaks"], not args.full)


if __name__ == "__main__":
    main()
