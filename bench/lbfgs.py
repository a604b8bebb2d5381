"""Time to convergence of the lbfgs solver: fastmlp against scikit-learn.

Both MLPClassifiers run SciPy's L-BFGS-B on the same full-batch loss, in
float64, with the same hyperparameters and from the same initial weights
(scikit-learn's draw for random_state=0). One repeat is one whole fit, from
those weights until L-BFGS-B stops: converged (no gradient component above
tol) or at max_iter. The repeats of the two contenders are interleaved, and
threadpoolctl sets the thread count of every pool (OpenMP and BLAS) for both.

    python bench/lbfgs.py            # same as --quick: digits, 2,000 x 100, 1 thread
    python bench/lbfgs.py --full     # digits, 20,000 x 100, 1 and 2 threads

Speed is never asserted: the output is a record, not a test.
"""

import time
import warnings
from dataclasses import dataclass

import numpy as np
from harness import (
    SETTLE_SECONDS,
    Measurement,
    Report,
    format_number,
    format_range,
    markdown_table,
    start_benchmark,
    thread_limits,
    time_call,
)
from sklearn import neural_network
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state

import fastmlp

# scikit-learn's defaults except the hidden layer width; max_iter=200 and
# tol=1e-4 are its defaults too.
SETTINGS = {
    "solver": "lbfgs",
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "alpha": 1e-4,
    "tol": 1e-4,
    "max_iter": 200,
    "random_state": 0,
}
CONTENDERS = ("fastmlp", "sklearn")
LABELS = {"fastmlp": "fastmlp", "sklearn": "scikit-learn"}
COLUMNS = [
    "data",
    "threads",
    "contender",
    "iterations",
    "final loss",
    "s/fit",
    "s/fit min–max",
    "÷ fastmlp (time)",
]


@dataclass
class Problem:
    """A classification data set, standardised or scaled to [0, 1]."""

    name: str
    X: np.ndarray
    y: np.ndarray


def make_problems(n_samples):
    """Return digits and a make_classification set of n_samples x 100."""
    X_digits, y_digits = load_digits(return_X_y=True)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=100,
        n_informative=40,
        n_classes=5,
        random_state=0,
    )
    return [
        Problem("digits 1,797 x 64", X_digits / 16.0, y_digits),
        Problem(
            f"classification {n_samples:,} x 100", StandardScaler().fit_transform(X), y
        ),
    ]


def sklearn_initial_weights(sizes, random_state):
    """Return the coefs_ and intercepts_ scikit-learn 1.9.1 starts relu MLPs from.

    Per layer it draws coefs_ of shape (n_in, n_out), then intercepts_, all
    uniform in +-sqrt(6 / (n_in + n_out)), from one RandomState.
    """
    rng = check_random_state(random_state)
    coefs, intercepts = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = np.sqrt(6.0 / (n_in + n_out))
        coefs.append(rng.uniform(-bound, bound, (n_in, n_out)))
        intercepts.append(rng.uniform(-bound, bound, n_out))
    return coefs, intercepts


def layer_sizes(problem, settings):
    """Return the layer widths of the network for problem, output included."""
    n_classes = len(np.unique(problem.y))
    n_outputs = 1 if n_classes == 2 else n_classes
    return [problem.X.shape[1], *settings["hidden_layer_sizes"], n_outputs]


def fit_quietly(model, X, y):
    """Fit model, ignoring ConvergenceWarning (max_iter is part of the setting)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)


class FastmlpFitter:
    """Fits fastmlp.MLPClassifier from scikit-learn's initial weights.

    ``run(units)`` fits once and returns 1; ``model`` is the fitted model.
    """

    def __init__(self, problem, settings):
        self.problem = problem
        # A one-iteration fit creates the fitted attributes. Each timed fit is
        # then a warm start from the initial weights, which costs what a first
        # fit costs.
        self.model = fastmlp.MLPClassifier(**{**settings, "max_iter": 1})
        fit_quietly(self.model, problem.X, problem.y)
        self.model.set_params(warm_start=True, max_iter=settings["max_iter"])
        self.start = sklearn_initial_weights(
            layer_sizes(problem, settings), settings["random_state"]
        )

    def run(self, units):
        coefs, intercepts = self.start
        self.model.coefs_ = [coef.copy() for coef in coefs]
        self.model.intercepts_ = [b.copy() for b in intercepts]
        fit_quietly(self.model, self.problem.X, self.problem.y)
        return 1


class SklearnFitter:
    """Fits scikit-learn's MLPClassifier, which draws the same initial weights.

    ``run(units)`` fits once and returns 1; ``model`` is the fitted model.
    """

    def __init__(self, problem, settings):
        self.problem = problem
        self.settings = settings
        self.model = None

    def run(self, units):
        self.model = neural_network.MLPClassifier(**self.settings)
        fit_quietly(self.model, self.problem.X, self.problem.y)
        return 1


FITTERS = {"fastmlp": FastmlpFitter, "sklearn": SklearnFitter}


def check_same_start(problem, settings):
    """Return the largest coefs_ difference after one iteration of each contender.

    Both start from the same weights and do the same float64 math, so the
    difference is at rounding level unless the starting weights differ.
    """
    settings = {**settings, "max_iter": 1}
    fitters = [FITTERS[name](problem, settings) for name in CONTENDERS]
    for fitter in fitters:
        fitter.run(1)
    ours, theirs = (fitter.model for fitter in fitters)
    return max(
        float(np.max(np.abs(coef - expected)))
        for coef, expected in zip(ours.coefs_, theirs.coefs_)
    )


@dataclass
class Case:
    """The measurements of both contenders on one problem at one thread count."""

    problem: str
    threads: int
    difference: float
    measurements: dict
    models: dict


def benchmark_problem(problem, threads, repeats, settings=SETTINGS):
    """Check, then time `repeats` interleaved fits of each contender; return a Case."""
    with thread_limits(threads):
        difference = check_same_start(problem, settings)
        fitters = {name: FITTERS[name](problem, settings) for name in CONTENDERS}
        for fitter in fitters.values():
            fitter.run(1)  # warm-up: imports, allocations, page faults
        measurements = {name: Measurement(1) for name in CONTENDERS}
        for _ in range(repeats):
            for name, fitter in fitters.items():
                time.sleep(SETTLE_SECONDS)
                _, seconds, faults = time_call(fitter.run, 1)
                measurements[name].seconds.append(seconds)
                measurements[name].page_faults.append(faults)
    models = {name: fitter.model for name, fitter in fitters.items()}
    return Case(problem.name, threads, difference, measurements, models)


def lbfgs_rows(cases):
    """Return one table row per contender and case."""
    rows = []
    for case in cases:
        fastmlp_seconds = case.measurements["fastmlp"].median_seconds
        for name in CONTENDERS:
            measurement = case.measurements[name]
            model = case.models[name]
            rows.append(
                [
                    case.problem,
                    case.threads,
                    LABELS[name],
                    model.n_iter_,
                    f"{float(model.loss_):.6g}",
                    format_number(measurement.median_seconds),
                    format_range(min(measurement.seconds), max(measurement.seconds)),
                    format_number(measurement.median_seconds / fastmlp_seconds),
                ]
            )
    return rows


def run_lbfgs(report, quick):
    """Run the benchmark and add its table to report; return the cases."""
    n_samples, thread_counts, repeats = (
        (2_000, (1,), 3) if quick else (20_000, (1, 2), 5)
    )
    cases = [
        benchmark_problem(problem, threads, repeats)
        for problem in make_problems(n_samples)
        for threads in thread_counts
    ]
    differences = ", ".join(f"{case.difference:.1e}" for case in cases)
    notes = [
        (
            "MLPClassifier(solver='lbfgs', hidden_layer_sizes=(100,), alpha=1e-4, "
            "tol=1e-4, max_iter=200), float64, both from scikit-learn's initial "
            "weights for random_state=0. s/fit: wall time of one whole fit, median "
            f"of {repeats} repeats, contenders interleaved."
        ),
        (
            "iterations and final loss: n_iter_ and loss_ of the last repeat; "
            "200 iterations means L-BFGS-B stopped at max_iter. '÷ fastmlp "
            "(time)': the contender's time over fastmlp's (above 1: fastmlp is "
            "faster)."
        ),
        (
            "Check before timing: largest coefs_ difference between the two after "
            f"one iteration, per case: {differences} (rounding level: same start)."
        ),
        (
            "Both run SciPy's L-BFGS-B, whose own work (a few vector operations "
            "per iteration, through BLAS) is the same for both; fastmlp replaces "
            "only the loss and gradient evaluations."
        ),
        (
            "On a 2-core machine with other busy processes, 2 threads can be "
            "slower than 1 for both: OpenMP and OpenBLAS worker threads spin "
            "while they wait, and SciPy's L-BFGS-B wakes the OpenBLAS threads for "
            "vectors of a few thousand entries."
        ),
    ]
    report.add(
        "lbfgs: time to convergence", markdown_table(COLUMNS, lbfgs_rows(cases)), notes
    )
    return cases


def main():
    args = start_benchmark(__doc__)
    run_lbfgs(Report(), not args.full)


if __name__ == "__main__":
    main()
