"""Full-batch training by SciPy's L-BFGS-B on the core's flat loss and gradient."""

from dataclasses import dataclass, field

import numpy as np
import scipy.optimize


@dataclass
class LbfgsResult:
    """What an L-BFGS run did.

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


def fit_lbfgs(core, X, Y, *, max_iter, max_fun, tol, l1, l2, n_threads, callback=None):
    """Minimise the penalised loss of (X, Y) over the parameters of ``core``.

    ``core`` is the compiled network (``MLP._core``); its parameters are the
    starting point and hold the result afterwards. The loss is the mean data
    loss plus ``l2/2 ||W||^2 + l1 ||W||_1``; ``tol`` is SciPy's ``gtol`` and
    ``max_iter``, ``max_fun`` its ``maxiter`` and ``maxfun``, as in
    scikit-learn's lbfgs solver. ``callback(iteration, loss)`` runs after each
    iteration; True stops. On Ctrl-C the parameters of the last completed
    iteration are put back and KeyboardInterrupt propagates.
    """
    result = LbfgsResult()
    last_iterate = core.flat_parameters()

    def loss_and_gradient(theta):
        return core.objective(theta, X, Y, l1, l2, n_threads)

    def after_iteration(intermediate_result):
        last_iterate[:] = intermediate_result.x
        loss = float(intermediate_result.fun)
        result.history.append(loss)
        if callback is not None and callback(len(result.history), loss):
            result.stopped_by_callback = True
            raise StopIteration

    try:
        outcome = scipy.optimize.minimize(
            loss_and_gradient,
            last_iterate.copy(),
            method="L-BFGS-B",
            jac=True,
            callback=after_iteration,
            options={"maxiter": max_iter, "maxfun": max_fun, "gtol": tol},
        )
    except KeyboardInterrupt:
        core.objective(last_iterate, X, Y, l1, l2, n_threads)
        raise
    # The last evaluation may have been a line-search trial point: set the
    # parameters to the returned minimiser.
    result.loss, _ = core.objective(np.asarray(outcome.x), X, Y, l1, l2, n_threads)
    result.n_iter = int(outcome.nit)
    result.n_fun = int(outcome.nfev)
    result.status = int(outcome.status)
    result.message = str(outcome.message)
    return result
