"""The per-epoch callback of the estimators: loss record, verbose output, stopping."""

import math


class EpochMonitor:
    """Record each epoch's loss and decide when training stops.

    An instance is the ``epoch_end`` callback of ``MLP._fit``. It follows scikit-learn's
    SGD solver: an epoch counts as "no improvement" when its loss is above
    ``best_loss - tol``, and training stops once more than ``n_iter_no_change``
    epochs in a row brought no improvement.

    Parameters
    ----------
    tol : float
        Minimum decrease of the training loss that counts as an improvement.
    n_iter_no_change : int or float
        Number of epochs without improvement that are tolerated; ``inf``
        never stops.
    verbose : bool or int
        When true, print "Iteration N, loss = X" after each epoch and a line
        when training stops early.
    loss_curve : list of float
        Losses of earlier fits (warm start, partial_fit); new ones are appended.
    best_loss : float
        Lowest loss so far (``inf`` for a new model).
    no_improvement_count : int
        Epochs in a row without improvement at the end of the previous fit.
    report_loss : callable or None
        ``report_loss(loss, penalty)`` maps an epoch's loss and its penalty
        part, as ``MLP._fit`` reports them, to the loss the estimator reports;
        None keeps the loss.
    """

    def __init__(
        self,
        tol,
        n_iter_no_change,
        verbose,
        loss_curve,
        best_loss=math.inf,
        no_improvement_count=0,
        report_loss=None,
    ):
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.loss_curve = list(loss_curve)
        self.best_loss = best_loss
        self.no_improvement_count = no_improvement_count
        self.report_loss = report_loss
        self.n_iter = 0
        self.stopped = False

    def __call__(self, epoch, loss, penalty):
        """Record one epoch; return True to stop training."""
        if self.report_loss is not None:
            loss = self.report_loss(loss, penalty)
        self.n_iter = epoch
        self.loss_curve.append(loss)
        if self.verbose:
            print(f"Iteration {epoch}, loss = {loss:.8f}")

        if loss > self.best_loss - self.tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        self.best_loss = min(self.best_loss, loss)

        if self.no_improvement_count > self.n_iter_no_change:
            if self.verbose:
                print(
                    f"Training loss improved by less than tol={self.tol:g} for "
                    f"{self.no_improvement_count} consecutive epochs. Stopping."
                )
            self.stopped = True
        return self.stopped
