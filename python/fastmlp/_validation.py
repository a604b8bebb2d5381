"""Checks and conversions shared by fastmlp.MLP and fastmlp.reference.MLP.

Every check raises ValueError (bad value) or TypeError (bad type) with a message
that names the parameter, the value received and what is allowed, so the same bad
input gives the same error from both models.
"""

import numbers
import os
import secrets

import numpy as np

ACTIVATIONS = ("identity", "logistic", "tanh", "relu")
ACTIVATION_ALIASES = {"sigmoid": "logistic"}
OUTPUTS = ("softmax", "logistic", "identity")
DTYPES = ("float32", "float64")
PENALTY_SCALINGS = ("none", "batch")
OPTIMIZERS = ("sgd", "rmsprop", "adam", "lbfgs")

# Kinds of NumPy dtypes that hold real numbers: bool, signed, unsigned, float.
_REAL_KINDS = "biuf"

# Rows per block when locating a non-finite value, so the check never allocates a
# boolean copy of a whole large array.
_FINITE_CHECK_ROWS = 4096

# Largest count or size accepted (epochs, batch_size, layer widths). The core
# takes these as signed 64-bit integers, and 2**62 leaves headroom for its
# arithmetic on them, such as adding epochs to the epoch counter.
MAX_COUNT = 2**62
# n_threads reaches OpenMP as a C int.
MAX_THREADS = 2**31 - 1


def check_real_dtype(array, name):
    """Raise TypeError unless the array contains real numbers."""
    if array.dtype.kind not in _REAL_KINDS:
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {array.dtype}; "
            "convert it to a float array first"
        )


def as_array(value, name):
    """Return np.asarray(value), raising ValueError that names a ragged input."""
    if value is None:
        raise TypeError(f"{name} must be an array-like, got None")
    try:
        return np.asarray(value)
    except ValueError as error:
        raise ValueError(
            f"{name} must be a rectangular array-like with rows of equal length; "
            "NumPy could not convert the nested sequence given to an array"
        ) from error


def _first_non_finite(array):
    """Return the index of the first NaN or infinity in array, or None."""
    if array.dtype.kind != "f":
        return None
    # Fast path: the sum is finite when every value is (it may overflow to inf
    # for huge finite values, which the exact search below then clears).
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.sum(array, dtype=np.float64)):
            return None
    flat = array.reshape(array.shape[0], -1) if array.ndim > 0 else array.reshape(1, 1)
    for start in range(0, flat.shape[0], _FINITE_CHECK_ROWS):
        block = flat[start : start + _FINITE_CHECK_ROWS]
        bad = np.argwhere(~np.isfinite(block))
        if bad.size:
            row, column = start + int(bad[0][0]), int(bad[0][1])
            return np.unravel_index(row * flat.shape[1] + column, array.shape)
    return None


def _describe_position(index, data):
    """Return "in row i" for data (rows are samples), "at index i" for a vector,
    else "at (i, j)"."""
    if data:
        return f"in row {int(index[0])}"
    if len(index) == 1:
        return f"at index {int(index[0])}"
    return f"at {tuple(int(i) for i in index)}"


def check_finite(array, name, data=True):
    """Raise ValueError if the array contains NaN or infinity.

    ``data`` is True for X and Y: the message then gives the row (sample) of
    the first such value and suggests cleaning the data. For parameters it
    gives the full index.
    """
    index = _first_non_finite(array)
    if index is None:
        return
    where = _describe_position(index, data)
    hint = "; remove or impute NaN and infinity first" if data else ""
    # !s keeps the digits of a long double value, which format() would lose.
    raise ValueError(
        f"{name} must contain only finite values, got {array[index]!s} {where}{hint}"
    )


def as_finite_array(array, dtype, name, data=True):
    """Return a C-contiguous copy or view of array in dtype, all of it finite.

    Checks the input before the cast, so NaN and infinity are reported as given,
    and then rejects finite values too large for dtype, which the cast would
    turn into infinity. ``data`` is as in `check_finite`.
    """
    check_finite(array, name, data)
    dtype = np.dtype(dtype)
    # Only a float dtype wider than the target can overflow in the cast.
    narrowing = (
        array.dtype.kind == "f" and np.finfo(array.dtype).max > np.finfo(dtype).max
    )
    if not narrowing:
        return np.ascontiguousarray(array, dtype=dtype)
    with np.errstate(over="ignore"):
        converted = np.ascontiguousarray(array, dtype=dtype)
    index = _first_non_finite(converted)
    if index is not None:
        where = _describe_position(index, data)
        hint = " or use dtype='float64'" if dtype == np.float32 else ""
        raise ValueError(
            f"{name} has values outside the {dtype.name} range (largest finite "
            f"{np.finfo(dtype).max:.2g}): got {array[index]!s} {where}; "
            f"scale {name}{hint}"
        )
    return converted


def as_matrix(X, dtype, name="X", n_features=None):
    """Return X as a C-contiguous 2-D array of dtype, without copying when it is one.

    Raises for ragged nested sequences, non-real dtypes, input that is not 2-D,
    no samples or no features, and a column count other than n_features (when
    given). Raises too for NaN or infinity and for values that do not fit in
    dtype.
    """
    X = as_array(X, name)
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
    if n_features is not None:
        check_n_features(X, n_features, name)
    return as_finite_array(X, dtype, name)


def check_n_features(X, n_features, name="X"):
    """Raise ValueError unless X has n_features columns."""
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features, but the network expects {n_features} "
            f"(sizes[0]); got shape {X.shape}"
        )


def check_int(value, name, minimum, maximum=MAX_COUNT):
    """Return value as an int, raising unless it is an integer in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value > maximum:
        bound = "2**62" if maximum == MAX_COUNT else str(maximum)
        raise ValueError(
            f"{name} must be an integer in [{minimum}, {bound}], got {value!r}; "
            f"{bound} is the largest value accepted"
        )
    return int(value)


def check_float(value, name, low, high=np.inf, low_open=False, high_open=True):
    """Return value as a float, raising unless it lies in the given interval.

    NaN is always rejected, and so is infinity because the default upper bound
    is open.
    """
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    interval = f"{left}{low}, {high}{right}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number in {interval}, got {value!r}")
    value = float(value)
    below = value <= low if low_open else value < low
    above = value >= high if high_open else value > high
    if np.isnan(value) or below or above:
        raise ValueError(f"{name} must be in {interval}, got {value!r}")
    return value


def check_bool(value, name):
    """Return value as a bool, raising TypeError unless it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name, choices):
    """Raise ValueError unless value is one of choices."""
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def check_callback(callback):
    """Raise TypeError unless callback is None or callable."""
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {callback!r}")
    return callback


def check_sizes(sizes):
    """Return sizes as a tuple of positive ints with at least two entries."""
    try:
        values = list(sizes)
    except TypeError:
        raise TypeError(
            f"sizes must be a sequence of layer widths such as [4, 8, 3], got {sizes!r}"
        ) from None
    if len(values) < 2:
        raise ValueError(
            "sizes must list at least the input and output widths, such as [4, 3], "
            f"got {values!r}"
        )
    return tuple(check_int(s, f"sizes[{i}]", 1) for i, s in enumerate(values))


def check_activation(activation):
    """Return the canonical name of a hidden activation; "sigmoid" is "logistic"."""
    if isinstance(activation, str):
        activation = ACTIVATION_ALIASES.get(activation, activation)
    return check_choice(
        activation, "activation", ACTIVATIONS + tuple(ACTIVATION_ALIASES)
    )


def check_dtype(dtype):
    """Return dtype as np.dtype('float32') or np.dtype('float64')."""
    allowed = "'float32' or 'float64'"
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        # A string NumPy does not know is a bad value, anything else a bad type.
        error = ValueError if isinstance(dtype, str) else TypeError
        raise error(f"dtype must be {allowed}, got {dtype!r}") from None
    if resolved.name not in DTYPES:
        raise ValueError(f"dtype must be {allowed}, got {dtype!r}")
    return resolved


def check_seed(seed):
    """Return seed as an int in [0, 2**64); None draws one from the OS."""
    if seed is None:
        return secrets.randbits(64)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be None or an integer in [0, 2**64), got {seed!r}")
    if not 0 <= seed < 2**64:
        raise ValueError(f"seed must be None or an integer in [0, 2**64), got {seed!r}")
    return int(seed)


def check_n_threads(n_threads):
    """Return n_threads as a positive int, or None."""
    if n_threads is None:
        return None
    return check_int(n_threads, "n_threads", 1, MAX_THREADS)


def check_output(output, n_out):
    """Return output, raising unless it is a known output layer for n_out units."""
    check_choice(output, "output", OUTPUTS)
    # Softmax over one unit is the constant 1, so its loss and gradient vanish.
    if output == "softmax" and n_out < 2:
        raise ValueError(
            f"output='softmax' needs at least 2 output units, got sizes[-1]={n_out}; "
            "use output='logistic' for one output (binary cross-entropy)"
        )
    return output


def check_network_settings(sizes, activation, output, dtype, seed, n_threads):
    """Return the checked constructor arguments of an MLP, in the same order."""
    sizes = check_sizes(sizes)
    return (
        sizes,
        check_activation(activation),
        check_output(output, sizes[-1]),
        check_dtype(dtype),
        check_seed(seed),
        check_n_threads(n_threads),
    )


def check_path(path):
    """Return path unchanged, raising TypeError unless it is a str or os.PathLike."""
    # open() would take an int as a file descriptor and close it afterwards.
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"path must be a str or os.PathLike (such as pathlib.Path), got {path!r}"
        )
    return path


def as_parameter_list(values, shapes, dtype, name):
    """Return C-contiguous copies in dtype of one array per layer.

    Raises unless values is a list or tuple with one real, finite array per
    entry of shapes, each of that shape and within the range of dtype. Every
    array is checked before any is returned.
    """
    values = _as_list(values, name, f"{len(shapes)} arrays")
    if len(values) != len(shapes):
        raise ValueError(
            f"{name} must be a list of {len(shapes)} arrays, one per layer, "
            f"got {len(values)}"
        )
    checked = []
    for l, (value, shape) in enumerate(zip(values, shapes)):
        value = as_array(value, f"{name}[{l}]")
        check_real_dtype(value, f"{name}[{l}]")
        if value.shape != tuple(shape):
            raise ValueError(
                f"{name}[{l}] must have shape {tuple(shape)}, got {value.shape}"
            )
        converted = as_finite_array(value, dtype, f"{name}[{l}]", data=False)
        # Copy even when no conversion was needed, so the caller's array stays
        # independent of the model.
        if np.may_share_memory(converted, value):
            converted = converted.copy()
        checked.append(converted)
    return checked


def _as_list(values, name, description):
    """Return values as a list, raising TypeError unless it is a list or tuple."""
    if isinstance(values, np.ndarray):
        received = f"an array of shape {values.shape}"
    elif isinstance(values, str) or not hasattr(values, "__len__"):
        # An iterator's repr shows only its address, so name its type instead.
        iterator = hasattr(values, "__next__")
        received = f"a {type(values).__name__}" if iterator else repr(values)
    else:
        return list(values)
    raise TypeError(f"{name} must be a list of {description}, got {received}")


def check_dropout(dropout, n_layers, name="dropout"):
    """Return one drop probability per layer input (input layer first).

    A single float applies to every hidden layer and leaves the input whole.
    """
    if isinstance(dropout, numbers.Real) and not isinstance(dropout, bool):
        p = check_float(dropout, name, 0.0, 1.0)
        return [0.0] + [p] * (n_layers - 1)
    if isinstance(dropout, str) or not hasattr(dropout, "__iter__"):
        raise TypeError(
            f"{name} must be a float in [0, 1) or a sequence of {n_layers} such "
            f"floats (the input layer and each hidden layer), got {dropout!r}"
        )
    values = list(dropout)
    if len(values) != n_layers:
        raise ValueError(
            f"{name} must hold {n_layers} probabilities (the input layer and each "
            f"hidden layer), got {len(values)}: {values!r}"
        )
    return [check_float(p, f"{name}[{i}]", 0.0, 1.0) for i, p in enumerate(values)]


def check_learning_rate(learning_rate):
    """Return a constant learning rate as a float, or a callable schedule as is."""
    if callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, numbers.Real):
        raise TypeError(
            "learning_rate must be a real number in (0.0, inf) or a callable "
            f"schedule(epoch) -> float, got {learning_rate!r}"
        )
    return check_float(learning_rate, "learning_rate", 0.0, low_open=True)


def check_scheduled_learning_rate(value, epoch):
    """Return the value a learning_rate schedule returned for epoch as a float.

    Raises TypeError unless it is a real number and ValueError unless it is
    positive and finite, naming the epoch and the value.
    """
    message = (
        f"the learning_rate schedule returned {value!r} for epoch {epoch}; "
        "it must return a positive finite number"
    )
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message)
    value = float(value)
    if not (value > 0 and np.isfinite(value)):
        raise ValueError(message)
    return value


def check_fit_options(
    n_layers,
    *,
    epochs,
    batch_size,
    learning_rate,
    momentum,
    nesterov,
    l1,
    l2,
    dropout,
    shuffle,
    penalty_scaling,
    optimizer="sgd",
    beta_1=0.9,
    beta_2=0.999,
    rho=0.99,
    epsilon=1e-8,
    tol=1e-4,
    max_fun=15000,
):
    """Return fit's training options, checked, as a dict keyed by their names.

    ``dropout`` comes back as one probability per layer input, as from
    `check_dropout`. ``batch_size`` is not clipped to the number of samples.
    ``learning_rate`` comes back as a float or, for a schedule, as the callable
    itself. Momentum belongs to SGD, so a nonzero ``momentum`` with another
    optimizer raises ValueError. "lbfgs" trains on the whole data set at once,
    so it rejects dropout and a learning-rate schedule.
    """
    options = {
        "epochs": check_int(epochs, "epochs", 1),
        "batch_size": check_int(batch_size, "batch_size", 1),
        "optimizer": check_choice(optimizer, "optimizer", OPTIMIZERS),
        "learning_rate": check_learning_rate(learning_rate),
        "momentum": check_float(momentum, "momentum", 0.0, 1.0),
        "nesterov": check_bool(nesterov, "nesterov"),
        "beta_1": check_float(beta_1, "beta_1", 0.0, 1.0),
        "beta_2": check_float(beta_2, "beta_2", 0.0, 1.0),
        "rho": check_float(rho, "rho", 0.0, 1.0),
        "epsilon": check_float(epsilon, "epsilon", 0.0, low_open=True),
        "l1": check_float(l1, "l1", 0.0),
        "l2": check_float(l2, "l2", 0.0),
        "dropout": check_dropout(dropout, n_layers),
        "shuffle": check_bool(shuffle, "shuffle"),
        "penalty_scaling": check_choice(
            penalty_scaling, "penalty_scaling", PENALTY_SCALINGS
        ),
        "tol": check_float(tol, "tol", 0.0),
        "max_fun": check_int(max_fun, "max_fun", 1),
    }
    if options["optimizer"] == "lbfgs":
        _check_lbfgs_options(options, dropout)
    if options["momentum"] != 0 and options["optimizer"] != "sgd":
        raise ValueError(
            f"momentum applies to optimizer='sgd' only, got momentum={momentum!r} "
            f"with optimizer={optimizer!r}; set momentum=0 or use optimizer='sgd'"
        )
    return options


def _check_lbfgs_options(options, dropout):
    """Raise ValueError for options that need a stochastic optimizer."""
    if any(p != 0 for p in options["dropout"]):
        raise ValueError(
            f"dropout needs a stochastic optimizer, got dropout={dropout!r} with "
            "optimizer='lbfgs'; set dropout=0 or use 'sgd', 'rmsprop' or 'adam'"
        )
    if callable(options["learning_rate"]):
        raise ValueError(
            "optimizer='lbfgs' chooses its own step lengths and takes no "
            "learning_rate schedule; pass a number (it is ignored) or use 'sgd', "
            "'rmsprop' or 'adam'"
        )


def check_masks(masks, n_samples, sizes, p, name="masks"):
    """Return dropout keep-masks as a list of C-contiguous bool arrays or None.

    ``masks[l]`` must have shape (n_samples, sizes[l]) for each input and hidden
    layer, and may only be given for a layer whose probability ``p[l]`` is above
    0. ``p`` is None when no dropout was given, and then no masks are allowed.
    """
    if p is None:
        raise ValueError(
            f"{name} need dropout probabilities for the scale of kept units; "
            "pass dropout as well"
        )
    n_layers = len(sizes) - 1
    masks = _as_list(masks, name, f"{n_layers} boolean arrays or None")
    if len(masks) != n_layers:
        raise ValueError(
            f"{name} must hold {n_layers} entries (the input layer and each "
            f"hidden layer), got {len(masks)}"
        )
    checked = []
    for l, mask in enumerate(masks):
        if mask is None:
            checked.append(None)
            continue
        mask = as_array(mask, f"{name}[{l}]")
        if mask.dtype != np.bool_:
            raise TypeError(
                f"{name}[{l}] must be a boolean array, got dtype {mask.dtype}"
            )
        expected = (n_samples, sizes[l])
        if mask.shape != expected:
            raise ValueError(
                f"{name}[{l}] must have shape {expected}, got {mask.shape}"
            )
        if p[l] == 0:
            raise ValueError(
                f"{name}[{l}] is given but the dropout probability of layer {l} "
                "is 0; pass dropout > 0 for that layer, or None as its mask"
            )
        checked.append(np.ascontiguousarray(mask))
    return checked


def check_epoch_masks(masks, epochs, n_samples, batch_size, sizes, p):
    """Return ``masks[epoch][batch]``, each checked by `check_masks` for its batch.

    ``batch_size`` must already be clipped to n_samples.
    """
    n_batches = -(-n_samples // batch_size)
    masks = _as_list(masks, "masks", f"{epochs} lists of batch masks (one per epoch)")
    if len(masks) != epochs:
        raise ValueError(
            f"masks must contain one entry per epoch ({epochs}), got {len(masks)}"
        )
    checked = []
    for epoch, epoch_masks in enumerate(masks):
        name = f"masks[{epoch}]"
        epoch_masks = _as_list(epoch_masks, name, f"{n_batches} batch masks")
        if len(epoch_masks) != n_batches:
            raise ValueError(
                f"{name} must contain one entry per batch ({n_batches}), "
                f"got {len(epoch_masks)}"
            )
        checked.append(
            [
                check_masks(
                    batch_masks,
                    min(batch_size, n_samples - batch * batch_size),
                    sizes,
                    p,
                    f"{name}[{batch}]",
                )
                for batch, batch_masks in enumerate(epoch_masks)
            ]
        )
    return checked


def check_orders(orders, epochs, n_samples):
    """Return one int64 permutation of range(n_samples) per epoch."""
    if isinstance(orders, str) or not hasattr(orders, "__len__"):
        raise TypeError(
            f"orders must be a sequence of {epochs} permutations of "
            f"range({n_samples}), got {orders!r}"
        )
    if len(orders) != epochs:
        raise ValueError(
            f"orders must contain one permutation per epoch ({epochs}), "
            f"got {len(orders)}"
        )
    checked = []
    for epoch, order in enumerate(orders):
        order = np.asarray(order)
        if order.dtype.kind not in "iu" or not np.array_equal(
            np.sort(order), np.arange(n_samples)
        ):
            raise ValueError(
                f"orders[{epoch}] must be a permutation of range({n_samples}), "
                f"got {order!r}"
            )
        checked.append(order.astype(np.int64))
    return checked


def as_targets(Y, n_samples, n_out, output, dtype, name="Y", input_name="X"):
    """Return the targets as a C-contiguous (n_samples, n_out) array of dtype.

    Accepts (n, n_out); 1-D of length n when n_out == 1; and, for a softmax output,
    1-D integer class indices in [0, n_out). Softmax rows must be non-negative and
    sum to 1, logistic targets must lie in [0, 1]. ``name`` and ``input_name``
    name Y and its inputs in the messages.
    """
    Y = as_array(Y, name)
    check_real_dtype(Y, name)
    if Y.ndim == 1 and Y.shape[0] != n_samples:
        raise ValueError(
            f"{input_name} and {name} must have the same number of samples, "
            f"got {n_samples} and {Y.shape[0]}"
        )
    if Y.ndim == 1 and output == "softmax" and n_out > 1:
        return _one_hot(Y, n_out, dtype, name)
    if Y.ndim == 1 and n_out == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2 or Y.shape != (n_samples, n_out):
        hint = (
            f"; for a softmax output, integer class indices of shape ({n_samples},) "
            "work too"
            if output == "softmax"
            else ""
        )
        raise ValueError(
            f"{name} must have shape ({n_samples}, {n_out}) to match {input_name} "
            f"and the output layer, got {Y.shape}{hint}"
        )
    Y = as_finite_array(Y, dtype, name)
    _check_target_range(Y, output, name)
    return Y


def as_sample_weight(sample_weight, n_samples, dtype):
    """Return sample weights as a C-contiguous 1-D array of dtype, or None.

    Raises unless they are real, 1-D with n_samples entries, finite, >= 0 and
    not all zero.
    """
    if sample_weight is None:
        return None
    name = "sample_weight"
    weights = as_array(sample_weight, name)
    check_real_dtype(weights, name)
    if weights.shape != (n_samples,):
        raise ValueError(
            f"{name} must be a 1-D array with one weight per sample, shape "
            f"({n_samples},), got shape {weights.shape}"
        )
    requested = weights
    weights = as_finite_array(weights, dtype, name, data=False)
    negative = np.flatnonzero(weights < 0)
    if negative.size:
        first = int(negative[0])
        raise ValueError(
            f"{name} must be >= 0, got {weights[first]!s} at index {first}"
        )
    if not weights.any():
        if requested.any():
            # Positive weights too small for the dtype round to 0 in the cast.
            raise ValueError(
                f"{name} must contain at least one positive weight, got weights "
                f"that are all 0 in {np.dtype(dtype).name} (largest "
                f"{requested.max()!s}); scale them up"
            )
        raise ValueError(
            f"{name} must contain at least one positive weight, got all zeros"
        )
    return weights


def _one_hot(labels, n_out, dtype, name):
    """Return one-hot rows for integer class indices in [0, n_out)."""
    if labels.dtype.kind not in "iu":
        raise ValueError(
            f"a 1-D {name} for a softmax output must hold integer class indices, "
            f"got dtype {labels.dtype}; pass one-hot rows of shape (n, {n_out}) instead"
        )
    bad = (labels < 0) | (labels >= n_out)
    if bad.any():
        first = int(labels[bad][0])
        raise ValueError(
            f"class indices in {name} must be in [0, {n_out}), got {first}"
        )
    Y = np.zeros((labels.shape[0], n_out), dtype=dtype)
    Y[np.arange(labels.shape[0]), labels] = 1
    return Y


def _check_target_range(Y, output, name):
    """Raise ValueError for targets the fused output gradient cannot use."""
    if output == "logistic" and ((Y < 0).any() or (Y > 1).any()):
        lowest, highest = float(Y.min()), float(Y.max())
        raise ValueError(
            f"{name} for a logistic output must lie in [0, 1], got values from "
            f"{lowest!r} to {highest!r}"
        )
    if output == "softmax":
        if (Y < 0).any():
            lowest = float(Y.min())
            raise ValueError(
                f"{name} for a softmax output must be non-negative, got {lowest!r}"
            )
        # The fused gradient y_hat - y assumes rows that sum to 1; allow rounding
        # of a float32 row of a few hundred entries.
        sums = Y.sum(axis=1, dtype=np.float64)
        worst = int(np.argmax(np.abs(sums - 1)))
        if abs(sums[worst] - 1) > 1e-4:
            raise ValueError(
                f"rows of {name} for a softmax output must sum to 1, "
                f"row {worst} sums to {sums[worst]}"
            )
