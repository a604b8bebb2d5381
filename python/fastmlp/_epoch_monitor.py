"""The per-epoch callback of the estimators: history, validation, output, stopping."""

import math


class TrainingHistory:
    """Per-epoch record that the estimators keep across warm-start fits.

    Each field maps to a fitted attribute of the estimators: ``loss_curve``
    to ``loss_curve_``, ``best_loss`` to ``best_loss_``, ``validation_scores``
    to ``validation_scores_``, ``best_validation_score`` to
    ``best_validation_score_``. ``validation_scores`` is None when training
    does not use early stopping. ``no_improvement_count`` is the number of
    epochs in a row without improvement so far.
    """

    def __init__(
        self,
        loss_curve=(),
        best_loss=math.inf,
        validation_scores=None,
        best_validation_score=-math.inf,
        no_improvement_count=0,
    ):
        self.loss_curve = list(loss_curve)
        self.best_loss = best_loss
        self.validation_scores = (
            None if validation_scores is None else list(validation_scores)
        )
        self.best_validation_score = best_validation_score
        self.no_improvement_count = no_improvement_count

    @property
    def early_stopping(self):
        """True when epochs are judged by their validation score."""
        return self.validation_scores is not None


class EpochMonitor:
    """Record each epoch, score the validation set and decide when training stops.

    An instance is the ``epoch_end`` callback of ``MLP._fit`` and follows
    scikit-learn's stochastic solvers. After each epoch it appends the loss
    to the history, scores the validation set when early stopping is on,
    reports the epoch and counts the epochs without improvement. Without
    early stopping an epoch improves when its loss is below
    ``best_loss - tol``; with it, when its validation score is at least
    ``best_validation_score + tol``. Once more than ``n_iter_no_change``
    epochs in a row brought no improvement, `_on_stall` decides what follows.

    Use the monitor as a context manager around training, so that the
    progress bar is closed when training ends or fails.

    Parameters
    ----------
    net : MLP
        The network being trained. With early stopping the monitor copies its
        weights and biases whenever the validation score reaches a new best.
    tol : float
        Minimum change of the loss or validation score that counts as an
        improvement.
    n_iter_no_change : int or float
        Number of epochs without improvement that are tolerated; ``inf``
        never stops.
    history : TrainingHistory
        Record of earlier fits (warm start, partial_fit), updated in place.
        Early stopping is on when ``history.validation_scores`` is a list.
    verbose : bool, int or callable
        A callable is called as ``verbose(epoch, loss, validation_score)``
        after each epoch, with None as the score without early stopping.
        Otherwise a true value prints scikit-learn's lines: "Iteration N,
        loss = X", "Validation score: S" and one line when training stops.
    score_validation : callable or None
        ``score_validation(net)`` returns the validation score of the
        network's current weights. Required with early stopping.
    report_loss : callable or None
        ``report_loss(loss, penalty)`` maps an epoch's loss and its penalty
        part, as ``MLP._fit`` reports them, to the loss the estimator
        reports; None keeps the loss.
    progress_bar : callable or None
        A tqdm-like class; ``progress_bar(total=epochs, ...)`` makes the bar
        that advances once per epoch and shows the loss.
    epochs : int
        Maximum number of epochs of this training run, the bar's total.

    Attributes
    ----------
    n_iter : int
        Epochs run so far in this training run.
    stopped : bool
        True once the monitor has asked training to stop.
    best_parameters : tuple of (list of ndarray, list of ndarray) or None
        With early stopping, the weights and biases of the best validation
        score so far, and the starting ones until an epoch improves on the
        best score of the history. None without early stopping.
    """

    def __init__(
        self,
        net,
        tol,
        n_iter_no_change,
        history,
        *,
        verbose=False,
        score_validation=None,
        report_loss=None,
        progress_bar=None,
        epochs=None,
    ):
        if history.early_stopping and score_validation is None:
            raise ValueError("early stopping needs a score_validation callable.")
        self.net = net
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.history = history
        self.verbose = verbose
        self.score_validation = score_validation
        self.report_loss = report_loss
        self.progress_bar = progress_bar
        self.epochs = epochs
        self.n_iter = 0
        self.stopped = False
        self.best_parameters = None
        if history.early_stopping:
            self.best_parameters = (net.weights, net.biases)
        self._bar = None

    def __enter__(self):
        if self.progress_bar is not None:
            self._bar = self.progress_bar(total=self.epochs, unit="epoch")
        return self

    def __exit__(self, *exc_info):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        return False

    def __call__(self, epoch, loss, penalty):
        """Record one epoch; return True to stop training."""
        if self.report_loss is not None:
            loss = self.report_loss(loss, penalty)
        self.n_iter = epoch
        self.history.loss_curve.append(loss)
        score = None
        if self.history.early_stopping:
            score = self.score_validation(self.net)
            self.history.validation_scores.append(score)
        self._report(epoch, loss, score)

        if self.history.early_stopping:
            self._update_best_score(score)
        else:
            self._update_best_loss(loss)

        if self.history.no_improvement_count > self.n_iter_no_change:
            self.stopped = self._on_stall()
        return self.stopped

    def _report(self, epoch, loss, score):
        """Print the epoch, call the verbose callable and advance the bar."""
        if callable(self.verbose):
            self.verbose(epoch, loss, score)
        elif self.verbose:
            print(f"Iteration {epoch}, loss = {loss:.8f}")
            if score is not None:
                print(f"Validation score: {score:f}")
        if self._bar is not None:
            shown = {"loss": f"{loss:.4g}"}
            if score is not None:
                shown["validation_score"] = f"{score:.4g}"
            self._bar.set_postfix(shown, refresh=False)
            self._bar.update(1)

    def _update_best_loss(self, loss):
        """Count an epoch whose loss is not below ``best_loss - tol``."""
        history = self.history
        if loss > history.best_loss - self.tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
        history.best_loss = min(history.best_loss, loss)

    def _update_best_score(self, score):
        """Count an epoch whose score is below ``best + tol``; keep the best weights.

        The comparisons are written as scikit-learn writes them, so a NaN
        score resets the count without becoming the best score.
        """
        history = self.history
        if score < history.best_validation_score + self.tol:
            history.no_improvement_count += 1
        else:
            history.no_improvement_count = 0
        if score > history.best_validation_score:
            history.best_validation_score = score
            self.best_parameters = (self.net.weights, self.net.biases)

    def _on_stall(self):
        """Decide what follows too many epochs without improvement; True stops.

        This is the one place for a per-epoch learning-rate decision. With
        the "constant" schedule training stops here. scikit-learn's
        "adaptive" schedule instead divides the learning rate by 5, resets
        ``no_improvement_count`` to 0 and goes on, stopping only once the
        rate is at most 1e-6.
        """
        # NOTE: MLP._fit keeps one learning rate for the whole call, so the
        # "adaptive" schedule also needs a way to change it between epochs.
        if self.verbose and not callable(self.verbose):
            if self.history.early_stopping:
                measure = "Validation score"
            else:
                measure = "Training loss"
            print(
                f"{measure} did not improve more than tol={self.tol:f} for "
                f"{self.n_iter_no_change} consecutive epochs. Stopping."
            )
        return True
