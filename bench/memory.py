"""Peak resident memory of fitting against the size of the data.

Each case runs in a fresh Python process, so its peak resident memory (VmHWM
in /proc/self/status) belongs to that case alone. The process generates a
float32 data set in place, resets the peak, fits once and reports the peak
again. The cases are fastmlp.MLP.fit with float32 one-hot targets, so nothing
needs converting, and MLPClassifier.fit and MLPRegressor.fit with 1-D targets.

    python bench/memory.py             # 64 MiB of data, under a minute
    python bench/memory.py --full      # 1 GiB of data; needs 1.5 GiB free

Linux only: it reads /proc/self/status and writes /proc/self/clear_refs.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import warnings

import numpy as np
from harness import machine_header, markdown_table

import fastmlp

N_FEATURES = 256
N_CLASSES = 10
HIDDEN = 64
BATCH_SIZE = 256
EPOCHS = 1
QUICK_BYTES = 64 * 2**20
FULL_BYTES = 2**30
CASES = ("MLP.fit", "MLPClassifier.fit", "MLPRegressor.fit")
COLUMNS = [
    "case",
    "data MiB",
    "model MiB",
    "RSS before fit MiB",
    "peak in fit MiB",
    "peak − before MiB",
    "(peak − before) / data",
    "fit s",
    "final loss",
]
MIB = 2**20


def read_status_kib(field):
    """Return a field of /proc/self/status, such as VmRSS or VmHWM, in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(f"/proc/self/status has no field {field}")


def reset_peak():
    """Reset VmHWM to the current resident size; return False if the kernel
    rejects the request."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def make_data(n_bytes, seed=0):
    """Return X (n, N_FEATURES) float32 of about n_bytes, and integer labels.

    The generator writes into X block by block, so no float64 temporary of the
    whole array ever exists.
    """
    n = n_bytes // (4 * N_FEATURES)
    X = np.empty((n, N_FEATURES), dtype=np.float32)
    rng = np.random.default_rng(seed)
    block = 65536
    for start in range(0, n, block):
        rng.standard_normal(dtype=np.float32, out=X[start : start + block])
    y = rng.integers(0, N_CLASSES, n)
    return X, y


def run_case(case, n_bytes):
    """Fit one case in this process and return its measurements as a dict."""
    X, y = make_data(n_bytes)
    if case == "MLP.fit":
        targets = np.zeros((len(y), N_CLASSES), dtype=np.float32)
        targets[np.arange(len(y)), y] = 1
    elif case == "MLPRegressor.fit":
        targets = X[:, 0] - X[:, 1]
    else:
        targets = y
    data_bytes = X.nbytes + targets.nbytes

    peak_was_reset = reset_peak()
    before = read_status_kib("VmRSS") * 1024
    started = time.perf_counter()
    if case == "MLP.fit":
        net = fastmlp.MLP([N_FEATURES, HIDDEN, N_CLASSES], seed=0)
        loss = net.fit(X, targets, epochs=EPOCHS, batch_size=BATCH_SIZE)[-1]
        parameters = [*net.weights, *net.biases]
    else:
        estimator_class = (
            fastmlp.MLPClassifier
            if case == "MLPClassifier.fit"
            else fastmlp.MLPRegressor
        )
        estimator = estimator_class(
            hidden_layer_sizes=(HIDDEN,),
            batch_size=BATCH_SIZE,
            max_iter=EPOCHS,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.fit(X, targets)
        loss = estimator.loss_
        parameters = [*estimator.coefs_, *estimator.intercepts_]
    seconds = time.perf_counter() - started
    peak = read_status_kib("VmHWM") * 1024
    # Weights and biases, and a momentum velocity for each.
    model_bytes = 2 * sum(array.nbytes for array in parameters)
    return {
        "data_bytes": data_bytes,
        "model_bytes": model_bytes,
        "before": before,
        "peak": peak,
        "peak_was_reset": peak_was_reset,
        "seconds": seconds,
        "loss": float(loss),
    }


def measure(case, n_bytes):
    """Run one case in a fresh interpreter and return its measurements."""
    result = subprocess.run(
        [sys.executable, __file__, "--case", case, "--bytes", str(n_bytes)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def table_row(case, measured):
    """Return the cells of one table row from run_case's measurements."""
    overhead = measured["peak"] - measured["before"]
    return [
        case,
        f"{measured['data_bytes'] / MIB:.1f}",
        f"{measured['model_bytes'] / MIB:.2f}",
        f"{measured['before'] / MIB:.1f}",
        f"{measured['peak'] / MIB:.1f}",
        f"{overhead / MIB:.1f}",
        f"{overhead / measured['data_bytes']:.3f}",
        f"{measured['seconds']:.1f}",
        f"{measured['loss']:.4f}",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--full", action="store_true", help="fit 1 GiB of float32 data (default 64 MiB)"
    )
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--bytes", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.bytes)))
        return
    if not os.path.exists("/proc/self/status"):
        sys.exit("error: bench/memory.py reads /proc/self/status, which needs Linux")

    n_bytes = FULL_BYTES if args.full else QUICK_BYTES
    started = time.perf_counter()
    results = {case: measure(case, n_bytes) for case in CASES}
    print("\n".join(machine_header()))
    print(
        f"- Data: X float32 ({N_FEATURES} features), {n_bytes / MIB:.0f} MiB; "
        f"network {N_FEATURES}-{HIDDEN}-{N_CLASSES} (regressor: "
        f"{N_FEATURES}-{HIDDEN}-1), batch {BATCH_SIZE}, {EPOCHS} epoch"
    )
    if not all(m["peak_was_reset"] for m in results.values()):
        print("- /proc/self/clear_refs refused: peaks include data generation")
    print()
    rows = [table_row(case, measured) for case, measured in results.items()]
    print(markdown_table(COLUMNS, rows))
    sys.stdout.flush()
    print(
        f"memory benchmark finished in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
