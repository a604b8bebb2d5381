"""Checks and conversions shared by fastmlp.MLP, the estimators and the reference.

Every check raises ValueError (bad value) or TypeError (bad type) with a message
that names the parameter, the value received and what is allowed.
"""

import numbers

import numpy as np

# Kinds of NumPy dtypes that hold real numbers: bool, signed, unsigned, float.
_REAL_KINDS = "biuf"

# Rows per block when locating a non-finite value, so the check never allocates a
# boolean copy of a whole large array.
_FINITE_CHECK_ROWS = 4096


def check_real_dtype(array, name):
    """Raise TypeError unless the array holds real numbers."""
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {array.dtype}; "
            "convert it to a float array first"
        )


def check_finite(array, name):
    """Raise ValueError if the array contains NaN or infinity."""
    if array.dtype.kind != "f":
        return
    # Fast path: the sum is finite when every value is (it may overflow to inf
    # for huge finite values, which the exact check below then clears).
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(array, dtype=np.float64)):
            return
    flat = array.reshape(array.shape[0], -1) if array.ndim > 0 else array.reshape(1, 1)
    for start in range(0, flat.shape[0], _FINITE_CHECK_ROWS):
        block = flat[start : start + _FINITE_CHECK_ROWS]
        bad = np.argwhere(~np.isfinite(block))
        if bad.size:
            row = start + int(bad[0][0])
            value = block[tuple(bad[0])]
            raise ValueError(
                f"{name} must contain only finite values, got {value} in row {row}; "
                "remove or impute NaN and infinity before fitting"
            )


def as_matrix(X, dtype, name="X"):
    """Return X as a C-contiguous 2-D array of dtype, without copying when it is one.

    Raises for 1-D or higher-dimensional input, for no samples or no features, for
    non-real dtypes and for NaN or infinity.
    """
    X = np.asarray(X)
    check_real_dtype(X, name)
    if X.ndim != 2:
        hint = (
            " Reshape it with X.reshape(-1, 1) for one feature or "
            "X.reshape(1, -1) for one sample."
            if X.ndim == 1
            else ""
        )
        raise ValueError(
            f"{name} must be a 2-D array, got {X.ndim}-D shape {X.shape}.{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(
            f"{name} must contain at least one sample, got shape {X.shape}"
        )
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} must contain at least one feature, got shape {X.shape}"
        )
    X = np.ascontiguousarray(X, dtype=dtype)
    check_finite(X, name)
    return X


def check_n_features(X, n_features, name="X"):
    """Raise ValueError unless X has n_features columns."""
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the network expects {n_features} "
            f"(sizes[0]); got shape {X.shape}"
        )


def check_int(value, name, minimum):
    """Return value as an int, raising unless it is an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_float(value, name, low, high=np.inf, low_open=False, high_open=True):
    """Return value as a float, raising unless it lies in the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{low}, {high}{right}"
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if np.isnan(value) or below or above:
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_choice(value, name, choices):
    """Raise ValueError unless value is one of choices."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_dropout(dropout, n_layers, name="dropout"):
    """Return one drop probability per layer input (input layer first).

    A single float applies to every hidden layer and leaves the input whole.
    """
    if isinstance(dropout, numbers.Real) and not isinstance(dropout, bool):
        p = check_float(dropout, name, 0.0, 1.0)
        return [0.0] + [p] * (n_layers - 1)
    try:
        values = list(dropout)
    except TypeError:
        raise TypeError(
            f"{name} must be a float or a sequence of {n_layers} floats, "
            f"got {dropout!r}"
        ) from None
    if len(values) != n_layers:
        raise ValueError(
            f"{name} must hold {n_layers} probabilities (the input layer and each "
            f"hidden layer), got {len(values)}: {values!r}"
        )
    return [check_float(p, f"{name}[{i}]", 0.0, 1.0) for i, p in enumerate(values)]


def as_targets(Y, n_samples, n_out, output, dtype, name="Y"):
    """Return the targets as a C-contiguous (n_samples, n_out) array of dtype.

    Accepts (n, n_out); 1-D of length n when n_out == 1; and, for a softmax output,
    1-D integer class indices in [0, n_out). Softmax rows must be non-negative and
    sum to 1, logistic targets must lie in [0, 1].
    """
    Y = np.asarray(Y)
    check_real_dtype(Y, name)
    if Y.ndim == 1 and Y.shape[0] != n_samples:
        raise ValueError(
            f"X and {name} must have the same number of samples, "
            f"got {n_samples} and {Y.shape[0]}"
        )
    if Y.ndim == 1 and output == "softmax" and n_out > 1:
        return _one_hot(Y, n_out, dtype, name)
    if Y.ndim == 1 and n_out == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2 or Y.shape != (n_samples, n_out):
        raise ValueError(
            f"{name} must have shape ({n_samples}, {n_out}) to match X and the output "
            f"layer, got {Y.shape}"
        )
    Y = np.ascontiguousarray(Y, dtype=dtype)
    check_finite(Y, name)
    _check_target_range(Y, output, name)
    return Y


def _one_hot(labels, n_out, dtype, name):
    """Return one-hot rows for integer class indices in [0, n_out)."""
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"a 1-D {name} for a softmax output must hold integer class indices, "
            f"got dtype {labels.dtype}; pass one-hot rows of shape (n, {n_out}) instead"
        )
    bad = (labels < 0) | (labels >= n_out)
    if bad.any():
        raise ValueError(
            f"class indices in {name} must be in [0, {n_out}), got {labels[bad][0]!r}"
        )
    Y = np.zeros((labels.shape[0], n_out), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


def _check_target_range(Y, output, name):
    """Raise ValueError for targets the fused output gradient cannot use."""
    if output == "logistic" and ((Y < 0).any() or (Y > 1).any()):
        raise ValueError(f"{name} for a logistic output must lie in [0, 1]")
    if output == "softmax":
        if (Y < 0).any():
            raise ValueError(f"{name} for a softmax output must be non-negative")
        # The fused gradient y_hat - y assumes rows that sum to 1; allow rounding
        # of a float32 row of a few hundred entries.
        sums = Y.sum(axis=1, dtype=np.float64)
        worst = int(np.argmax(np.abs(sums - 1)))
        if abs(sums[worst] - 1) > 1e-4:
            raise ValueError(
                f"rows of {name} for a softmax output must sum to 1, "
                f"row {worst} sums to {sums[worst]}"
            )
