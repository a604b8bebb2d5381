"""Pruning by saliency for fastmlp.MLP: Optimal Brain Damage and weight magnitude.

``MLP.prune`` calls `prune_network`, which removes weights in steps, least
salient first, until the validation error would rise more than a tolerance.
Removed weights are recorded in the network's keep-masks (``MLP.weight_masks``),
which keep them at exactly 0 in later training.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from ._validation import (
    as_array,
    check_callback,
    check_choice,
    check_float,
    check_int,
)
from ._validation import (
    check_fit_options as check_training_options,
)

METHODS = ("obd", "magnitude")

# A logistic output above this probability predicts a positive label, as in
# MLPClassifier.
DECISION_THRESHOLD = 0.5


@dataclass
class PruningReport:
    """The steps of one ``MLP.prune`` call and the validation error after each.

    Counts cover the whole network, so weights removed before the call are
    included. Biases are never pruned and never counted.

    Attributes
    ----------
    method : {"obd", "magnitude"}
        Saliency used to rank the weights.
    n_weights : int
        Number of weights in the network, biases excluded.
    removed_before : int
        Weights already removed when the call started.
    error_before : float
        Validation error before the first step: the misclassification rate
        for softmax and logistic outputs, the mean loss for an identity output.
    removed_counts : list of int
        Weights removed in total after each kept step.
    removed_fractions : list of float
        ``removed_counts`` divided by ``n_weights``.
    errors : list of float
        Validation error after each kept step (after its retraining, if any).
    rejected_error : float or None
        Validation error of the step that rose more than the tolerance above
        ``error_before`` and was undone. None when pruning stopped because no
        weight was left.
    """

    method: str
    n_weights: int
    removed_before: int
    error_before: float
    removed_counts: list[int] = field(default_factory=list)
    removed_fractions: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    rejected_error: float | None = None

    @property
    def removed_count(self):
        """Weights removed in total when the call returned."""
        return self.removed_counts[-1] if self.removed_counts else self.removed_before

    @property
    def removed_fraction(self):
        """``removed_count`` divided by ``n_weights``."""
        return self.removed_count / self.n_weights

    @property
    def error(self):
        """Validation error of the network when the call returned."""
        return self.errors[-1] if self.errors else self.error_before


def validation_error(net, X, Y):
    """Return the error prune watches, for checked X and Y of the net's dtype.

    Softmax outputs: the share of rows whose largest output is not the target
    row's largest entry. Logistic outputs: the share of rows with any output
    on the wrong side of 0.5 (subset accuracy, as scikit-learn scores
    multilabel problems). Identity output: the mean loss
    ``1/2 sum_k (y_k - y_hat_k)^2`` over rows.
    """
    Y_hat = net.forward(X)
    if net.output == "softmax":
        return float(np.mean(Y_hat.argmax(axis=1) != Y.argmax(axis=1)))
    if net.output == "logistic":
        wrong = (Y_hat > DECISION_THRESHOLD) != (Y > DECISION_THRESHOLD)
        return float(np.mean(wrong.any(axis=1)))
    residual = Y.astype(np.float64) - Y_hat
    return float(0.5 * np.mean((residual * residual).sum(axis=1)))


def saliencies(net, method, X):
    """Return the saliency of every weight, in float64, shaped like the weights.

    "obd": ``h_kk w_k^2 / 2`` with h_kk from ``net.hessian_diagonal(X)``, the
    loss increase that removing w_k would cause in the diagonal quadratic
    model of Optimal Brain Damage. "magnitude": ``|w_k|``.
    """
    weights = [W.astype(np.float64) for W in net.weights]
    if method == "magnitude":
        return [np.abs(W) for W in weights]
    H = net.hessian_diagonal(X)
    return [h.astype(np.float64) * W * W / 2 for h, W in zip(H, weights)]


def remove_least_salient(masks, saliency, count):
    """Return new keep-masks with the `count` least salient kept weights removed.

    The ranking is global over all layers. Ties go to the weight that comes
    first in layer order, then row-major order, so the choice is reproducible.
    """
    keep = np.concatenate([mask.ravel() for mask in masks])
    scores = np.concatenate([s.ravel() for s in saliency])
    candidates = np.flatnonzero(keep)
    order = np.argsort(scores[candidates], kind="stable")
    keep[candidates[order[:count]]] = False
    ends = np.cumsum([mask.size for mask in masks])[:-1]
    return [part.reshape(mask.shape) for part, mask in zip(np.split(keep, ends), masks)]


def check_weight_masks(masks, shapes):
    """Return keep-masks as C-contiguous bool arrays, one per layer.

    Raises TypeError unless masks is a list or tuple of boolean arrays, and
    ValueError for a wrong count or shape.
    """
    if isinstance(masks, (str, np.ndarray)) or not isinstance(masks, (list, tuple)):
        raise TypeError(
            f"weight_masks must be a list of {len(shapes)} boolean arrays, "
            f"got {type(masks).__name__}"
        )
    if len(masks) != len(shapes):
        raise ValueError(
            f"weight_masks must be a list of {len(shapes)} arrays, one per layer, "
            f"got {len(masks)}"
        )
    checked = []
    for l, (mask, shape) in enumerate(zip(masks, shapes)):
        mask = as_array(mask, f"weight_masks[{l}]")
        if mask.dtype != np.bool_:
            raise TypeError(
                f"weight_masks[{l}] must be a boolean array (True keeps a weight), "
                f"got dtype {mask.dtype}"
            )
        if mask.shape != tuple(shape):
            raise ValueError(
                f"weight_masks[{l}] must have shape {tuple(shape)}, got {mask.shape}"
            )
        checked.append(np.ascontiguousarray(mask))
    return checked


def check_retraining_options(net, retrain_epochs, fit_options):
    """Raise unless fit_options are valid keyword arguments of ``net.fit``.

    The values are checked as fit checks them, so that a bad option fails
    before the first weight is removed.
    """
    if "epochs" in fit_options:
        raise ValueError(
            f"epochs={fit_options['epochs']!r} is not a prune option; pass the "
            "epochs of retraining between steps as retrain_epochs"
        )
    parameters = inspect.signature(net.fit).parameters
    allowed = [name for name in parameters if name not in ("X", "Y", "epochs")]
    unknown = sorted(set(fit_options) - set(allowed))
    if unknown:
        raise TypeError(
            f"prune() got unexpected keyword arguments {unknown}; besides its own "
            f"arguments it takes the options of fit: {', '.join(allowed)}"
        )
    if fit_options and retrain_epochs == 0:
        raise ValueError(
            f"fit options {sorted(fit_options)} only apply to retraining, but "
            "retrain_epochs is 0; set retrain_epochs > 0 or leave them out"
        )
    options = {name: parameters[name].default for name in allowed}
    options.update(fit_options)
    check_callback(options["callback"])
    sgd_names = [
        name
        for name in inspect.signature(check_training_options).parameters
        if name != "n_layers"
    ]
    sgd_options = {name: options[name] for name in sgd_names if name in options}
    sgd_options["epochs"] = max(retrain_epochs, 1)
    check_training_options(net.n_layers, **sgd_options)


def check_prune_arguments(
    net, method, tolerance, step, X_train, Y_train, retrain_epochs, fit_options
):
    """Return (tolerance, step, retrain_epochs) checked; raise for any bad argument."""
    check_choice(method, "method", METHODS)
    tolerance = check_float(tolerance, "tolerance", 0.0)
    step = check_float(step, "step", 0.0, 1.0, low_open=True, high_open=False)
    retrain_epochs = check_int(retrain_epochs, "retrain_epochs", 0)
    if (X_train is None) != (Y_train is None):
        given, missing = (
            ("X_train", "Y_train") if Y_train is None else ("Y_train", "X_train")
        )
        raise ValueError(
            f"{given} is given but {missing} is None; pass both or neither"
        )
    if retrain_epochs > 0 and X_train is None:
        raise ValueError(
            f"retrain_epochs={retrain_epochs} needs training data; pass X_train "
            "and Y_train, or set retrain_epochs=0"
        )
    check_retraining_options(net, retrain_epochs, fit_options)
    return tolerance, step, retrain_epochs


def prune_network(
    net,
    X_val,
    Y_val,
    *,
    method,
    tolerance,
    step,
    X_train,
    Y_train,
    retrain_epochs,
    fit_options,
):
    """Prune net in place as ``MLP.prune`` describes; return a PruningReport."""
    tolerance, step, retrain_epochs = check_prune_arguments(
        net, method, tolerance, step, X_train, Y_train, retrain_epochs, fit_options
    )
    X_val = net._input(X_val, "X_val")
    Y_val = net._targets(Y_val, X_val.shape[0], "Y_val", "X_val")
    X_saliency = X_val
    if X_train is not None:
        X_train = net._input(X_train, "X_train")
        Y_train = net._targets(Y_train, X_train.shape[0], "Y_train", "X_train")
        X_saliency = X_train

    masks = net.weight_masks
    n_weights = sum(mask.size for mask in masks)
    removed = n_weights - sum(int(mask.sum()) for mask in masks)
    report = PruningReport(
        method, n_weights, removed, validation_error(net, X_val, Y_val)
    )
    while removed < n_weights:
        count = math.ceil(step * (n_weights - removed))
        before = net._snapshot()
        try:
            scores = saliencies(net, method, X_saliency)
            net.weight_masks = remove_least_salient(masks, scores, count)
            if retrain_epochs > 0:
                net.fit(X_train, Y_train, epochs=retrain_epochs, **fit_options)
        except BaseException:
            # Divergence in retraining, or Ctrl-C: back to the last kept step.
            net._restore(before)
            raise
        error = validation_error(net, X_val, Y_val)
        if error > report.error_before + tolerance:
            net._restore(before)
            report.rejected_error = error
            break
        masks = net.weight_masks
        removed += count
        report.removed_counts.append(removed)
        report.removed_fractions.append(removed / n_weights)
        report.errors.append(error)
    return report
