"""Full-batch training by SciPy's L-BFGS-B on the core's flat loss and gradient."""

from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits


def flatten(weights, biases):
    """Return the parameters as one float64 vector: per layer W row by row, then b."""
    parts = []
    for W, b in zip(weights, biases):
        parts.extend([np.ravel(W), np.ravel(b)])
    return np.concatenate(parts).astype(np.float64)


def unflatten(theta, sizes):
    """Return (weights, biases) lists of views into theta, the inverse of flatten."""
    weights, biases = [], []
    start = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        weights.append(theta[start : start + n_out * n_in].reshape(n_out, n_in))
        start += n_out * n_in
        biases.append(theta[start : start + n_out])
        start += n_out
    return weights, biases


def penalty_divisor(penalty_scaling, n_samples, sample_weight):
    """Return what l1 and l2 are divided by: 1, or for "batch" the whole set's size.

    With lbfgs the whole data set is the batch, so "batch" scaling divides by
    its row count, or by its sum of sample weights when given, as scikit-learn
    scales alpha.
    """
    if penalty_scaling != "batch":
        return 1.0
    if sample_weight is None:
        return float(n_samples)
    return float(np.sum(sample_weight, dtype=np.float64))


def weight_penalty(theta, sizes, l1, l2):
    """Return ``l2/2 ||W||^2 + l1 ||W||_1`` of the weights in theta (not biases)."""
    weights, _ = unflatten(theta, sizes)
    return sum(
        0.5 * l2 * float(np.dot(W.ravel(), W.ravel())) + l1 * float(np.abs(W).sum())
        for W in weights
    )


@dataclass
class LbfgsResult:
    """Outcome of one L-BFGS run.

    Attributes
    ----------
    history : list of float
        Penalised loss after each iteration.
    loss : float
        Penalised loss at the final parameters.
    n_iter : int
        Iterations run.
    n_fun : int
        Evaluations of the loss and gradient.
    status : int
        SciPy's status: 0 converged, 1 stopped by the iteration or evaluation
        limit, 2 stopped for another reason (see ``message``).
    message : str
        SciPy's description of why the run stopped.
    stopped_by_callback : bool
        True when the callback returned True.
    """

    history: list = field(default_factory=list)
    loss: float = float("nan")
    n_iter: int = 0
    n_fun: int = 0
    status: int = 0
    message: str = ""
    stopped_by_callback: bool = False


def fit_lbfgs(objective, theta, *, max_iter, max_fun, tol, callback=None):
    """Minimise ``objective`` from ``theta`` with SciPy's L-BFGS-B.

    ``objective(theta) -> (loss, grad)`` sets a model's parameters to the flat
    float64 vector ``theta`` and returns the penalised loss and its gradient.
    The last call before this function returns is at the result, so the model
    holds the minimiser afterwards. ``tol`` is
    SciPy's ``gtol`` and ``max_iter``, ``max_fun`` its ``maxiter`` and
    ``maxfun``, as in scikit-learn's lbfgs solver. ``callback(iteration,
    loss)`` runs after each iteration; True stops. On Ctrl-C the parameters of
    the last completed iteration are put back and KeyboardInterrupt
    propagates.
    """
    # Imported here: scipy.optimize takes about 0.3 s to import, which every
    # `import fastmlp` would pay otherwise.
    import scipy.optimize

    result = LbfgsResult()
    last_iterate = np.array(theta, dtype=np.float64)

    def after_iteration(intermediate_result):
        last_iterate[:] = intermediate_result.x
        loss = float(intermediate_result.fun)
        result.history.append(loss)
        if callback is not None and callback(len(result.history), loss):
            result.stopped_by_callback = True
            raise StopIteration

    try:
        # L-BFGS-B's own BLAS calls work on vectors of the parameter count, too
        # short to share. With several BLAS threads they spin against the
        # core's OpenMP threads, which made a 2-thread fit on digits several
        # times slower than a 1-thread one.
        with threadpool_limits(limits=1, user_api="blas"):
            outcome = scipy.optimize.minimize(
                objective,
                last_iterate.copy(),
                method="L-BFGS-B",
                jac=True,
                callback=after_iteration,
                options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
            )
    except KeyboardInterrupt:
        objective(last_iterate)
        raise
    # The last evaluation may have been a line-search trial point: set the
    # parameters to the returned minimiser.
    result.loss, _ = objective(np.asarray(outcome.x, dtype=np.float64))
    result.loss = float(result.loss)
    result.n_iter = int(outcome.nit)
    result.n_fun = int(outcome.nfev)
    result.status = int(outcome.status)
    result.message = str(outcome.message)
    return result
