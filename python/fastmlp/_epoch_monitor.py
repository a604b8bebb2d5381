"""The per-epoch callback of the estimators: history, validation, output, stopping."""

import math

# After too many epochs without improvement, scikit-learn's "adaptive" schedule
# divides the learning rate by ADAPTIVE_DIVISOR, unless the rate is already at
# most MIN_ADAPTIVE_LEARNING_RATE, in which case training stops.
ADAPTIVE_DIVISOR = 5.0
MIN_ADAPTIVE_LEARNING_RATE = 1e-6


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


class LearningRateSchedule:
    """Learning rate of scikit-learn's stochastic solvers, updated after each epoch.

    An instance is a learning-rate schedule for ``MLP._fit``: the core calls
    it before each epoch and it returns the current rate, which `EpochMonitor`
    changes between epochs as scikit-learn 1.9.1 does:

    - "constant" keeps ``learning_rate_init``. Adam uses it too, because
      scikit-learn's Adam ignores the ``learning_rate`` parameter.
    - "invscaling" sets the rate after each epoch to
      ``learning_rate_init / (t + 1) ** power_t``, with t the number of
      training samples seen so far (the estimator's ``t_``).
    - "adaptive" keeps the rate until more than ``n_iter_no_change`` epochs
      in a row bring no improvement, then divides it by 5 (see
      `EpochMonitor`).

    Parameters
    ----------
    kind : {"constant", "invscaling", "adaptive"}
    learning_rate_init : float
        Rate of the first epoch.
    power_t : float
        Exponent of "invscaling".

    Attributes
    ----------
    rate : float
        The rate of the next epoch.
    """

    def __init__(self, kind, learning_rate_init, power_t):
        self.kind = kind
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.rate = float(learning_rate_init)

    def __call__(self, epoch):
        """Return the rate of the next epoch; ``epoch`` counts from 1 in the call."""
        return self.rate

    def epoch_end(self, samples_seen):
        """Update the rate after an epoch, given the training samples seen so far."""
        if self.kind == "invscaling":
            self.rate = (
                float(self.learning_rate_init) / (samples_seen + 1) ** self.power_t
            )


class ProgressReport:
    """Output of a training run: verbose lines, a verbose callable, a progress bar.

    Use it as a context manager around training, so that the progress bar is
    closed when training ends or fails.

    Parameters
    ----------
    verbose : bool, int or callable
        A callable is called as ``verbose(step, loss, validation_score)``
        after each epoch or iteration, with None as the score without early
        stopping. Otherwise a true value prints scikit-learn's lines:
        "Iteration N, loss = X", "Validation score: S" and the messages
        passed to `message`.
    progress_bar : callable or None
        A tqdm-like class; ``progress_bar(total=total, unit=unit)`` makes the
        bar, which advances once per step and shows the loss.
    total : int
        Maximum number of steps of the run, the bar's total.
    unit : str
        What a step is, for the bar: "epoch" or "iteration".
    """

    def __init__(self, verbose, progress_bar=None, total=None, unit="epoch"):
        self.verbose = verbose
        self.progress_bar = progress_bar
        self.total = total
        self.unit = unit
        self._bar = None

    def __enter__(self):
        if self.progress_bar is not None:
            self._bar = self.progress_bar(total=self.total, unit=self.unit)
        return self

    def __exit__(self, *exc_info):
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        return False

    def step(self, step, loss, score=None):
        """Print the step, call the verbose callable and advance the bar."""
        if callable(self.verbose):
            self.verbose(step, loss, score)
        elif self.verbose:
            print(f"Iteration {step}, loss = {loss:.8f}")
            if score is not None:
                print(f"Validation score: {score:f}")
        if self._bar is not None:
            shown = {"loss": f"{loss:.4g}"}
            if score is not None:
                shown["validation_score"] = f"{score:.4g}"
            self._bar.set_postfix(shown, refresh=False)
            self._bar.update(1)

    def message(self, text):
        """Print text when verbose is a true value other than a callable."""
        if self.verbose and not callable(self.verbose):
            print(text)


class EpochMonitor:
    """Record each epoch, score the validation set and decide when training stops.

    An instance is the ``epoch_end`` callback of ``MLP._fit`` and follows
    scikit-learn's stochastic solvers. After each epoch it appends the loss
    to the history, scores the validation set when early stopping is on,
    reports the epoch, counts the epochs without improvement and updates the
    learning-rate schedule. Without early stopping an epoch improves when
    its loss is below ``best_loss - tol``; with it, when its validation
    score is at least ``best_validation_score + tol``. Once more than
    ``n_iter_no_change`` epochs in a row brought no improvement, `_on_stall`
    decides what follows.

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
    n_samples : int
        Training samples of one epoch (the validation set excluded).
    samples_seen : int, default=0
        Training samples seen before this run, over earlier fits.
    schedule : LearningRateSchedule or None
        The schedule whose rate the core reads before each epoch; None keeps
        a constant rate.
    report : ProgressReport or None
        Where each epoch and the stopping message go; None reports nothing.
    score_validation : callable or None
        ``score_validation(net)`` returns the validation score of the
        network's current weights. Required with early stopping.
    report_loss : callable or None
        ``report_loss(loss, penalty)`` maps an epoch's loss and its penalty
        part, as ``MLP._fit`` reports them, to the loss the estimator
        reports; None keeps the loss.

    Attributes
    ----------
    n_iter : int
        Epochs run so far in this training run.
    samples_seen : int
        Training samples seen so far, ``samples_seen`` at the start included.
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
        n_samples,
        samples_seen=0,
        schedule=None,
        report=None,
        score_validation=None,
        report_loss=None,
    ):
        if history.early_stopping and score_validation is None:
            raise ValueError("early stopping needs a score_validation callable.")
        self.net = net
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.history = history
        self.n_samples = n_samples
        self.samples_seen = samples_seen
        self.schedule = schedule
        self.report = ProgressReport(False) if report is None else report
        self.score_validation = score_validation
        self.report_loss = report_loss
        self.n_iter = 0
        self.stopped = False
        self.best_parameters = None
        if history.early_stopping:
            self.best_parameters = (net.weights, net.biases)

    def __call__(self, epoch, loss, penalty):
        """Record one epoch; return True to stop training."""
        if self.report_loss is not None:
            loss = self.report_loss(loss, penalty)
        self.n_iter = epoch
        self.samples_seen += self.n_samples
        self.history.loss_curve.append(loss)
        score = None
        if self.history.early_stopping:
            score = self.score_validation(self.net)
            self.history.validation_scores.append(score)
        self.report.step(epoch, loss, score)

        if self.history.early_stopping:
            self._update_best_score(score)
        else:
            self._update_best_loss(loss)
        # scikit-learn updates the rate before it looks for a stall.
        if self.schedule is not None:
            self.schedule.epoch_end(self.samples_seen)

        if self.history.no_improvement_count > self.n_iter_no_change:
            self.stopped = self._on_stall()
        return self.stopped

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

        As in scikit-learn, the "adaptive" schedule divides the learning rate
        by 5, resets ``no_improvement_count`` to 0 and goes on, unless the
        rate is already at most 1e-6. Every other schedule stops.
        """
        measure = "Validation score" if self.history.early_stopping else "Training loss"
        message = (
            f"{measure} did not improve more than tol={self.tol:f} for "
            f"{self.n_iter_no_change} consecutive epochs."
        )
        schedule = self.schedule
        if schedule is None or schedule.kind != "adaptive":
            self.report.message(f"{message} Stopping.")
            return True
        if schedule.rate <= MIN_ADAPTIVE_LEARNING_RATE:
            self.report.message(f"{message} Learning rate too small. Stopping.")
            return True
        schedule.rate /= ADAPTIVE_DIVISOR
        self.history.no_improvement_count = 0
        self.report.message(f"{message} Setting learning rate to {schedule.rate:f}")
        return False
