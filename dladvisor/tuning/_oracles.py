"""keras-tuner oracles that honour a time budget, ``max_trials`` and a failure limit.

keras-tuner has no time budget, Hyperband has no ``max_trials``, and keras-tuner's own
``max_consecutive_failed_trials`` aborts ``search()`` with a RuntimeError. Here one
mixin decides, before every new trial, whether to start it; when not, ``create_trial``
returns a STOPPED trial, which is keras-tuner's own signal for ``search()`` to return
cleanly. The reason is kept in ``stop_reason``.
"""

from __future__ import annotations

import time

import keras_tuner
from keras_tuner.engine import trial as trial_module

from dladvisor.tuning.budget import Deadline

TrialStatus = trial_module.TrialStatus

# A trial is not started with less time left than this, in seconds: building the model
# and tracing its training step alone take about that long, so the trial could not
# finish even one useful epoch.
MIN_START_SECONDS = 1.0
# ...nor with less than this share of the quickest trial of this session: a trial cut
# to a fraction of what trials take scores mostly its truncation, not its settings.
MIN_START_FRACTION = 0.5


class BudgetMixin:
    """Adds the stopping rules to a keras-tuner Oracle; list it before the Oracle class.

    Call :meth:`configure_budget` after construction. ``stop_reason`` is None while the
    search may continue, then one of "budget", "max_trials", "consecutive_failures" or
    "search_space_exhausted".
    """

    def configure_budget(
        self,
        *,
        deadline: Deadline,
        max_trials: int | None,
        max_consecutive_failures: int | None,
    ) -> None:
        """Set the limits checked before each new trial.

        Args:
            deadline: when to stop starting trials.
            max_trials: how many trials the project may hold in all (resumed ones
                included); None for no limit.
            max_consecutive_failures: stop after this many FAILED trials in a row;
                None for no limit.
        """
        self.deadline = deadline
        self.max_trials = max_trials
        self.max_consecutive_failures = max_consecutive_failures
        # keras-tuner's check raises RuntimeError from end_trial(); ours stops cleanly.
        self.max_consecutive_failed_trials = None
        self.stop_reason = None
        self._started_at = {}
        self._durations = []

    def _reason_to_stop(self):
        remaining = self.deadline.remaining()
        threshold = MIN_START_SECONDS
        if self._durations:
            threshold = max(threshold, MIN_START_FRACTION * min(self._durations))
        if self.deadline.expired() or remaining < threshold:
            return "budget"
        # A trial waiting for retry (interrupted by a crash before a resume) is already
        # counted in self.trials, so it may run even when the count is at the limit.
        if self.max_trials and not self._retry_queue and len(self.trials) >= self.max_trials:
            return "max_trials"
        if (
            self.max_consecutive_failures
            and self._trailing_failures() >= self.max_consecutive_failures
        ):
            return "consecutive_failures"
        return None

    def _trailing_failures(self):
        count = 0
        for trial_id in reversed(self.end_order):
            if self.trials[trial_id].status != TrialStatus.FAILED:
                break
            count += 1
        return count

    @keras_tuner.synchronized
    def create_trial(self, tuner_id):
        # A tuner asking again for its ongoing trial (multi-worker strategies) gets it
        # back whatever the limits say: it is already running.
        if tuner_id not in self.ongoing_trials:
            reason = self._reason_to_stop()
            if reason is not None:
                self.stop_reason = reason
                self.tuner_ids.discard(tuner_id)
                return trial_module.Trial(self.get_space(), status=TrialStatus.STOPPED)
        trial = super().create_trial(tuner_id)
        if trial.status == TrialStatus.STOPPED and self.stop_reason is None:
            # The wrapped oracle ended on its own: nothing new left to try.
            self.stop_reason = "search_space_exhausted"
        elif trial.status == TrialStatus.RUNNING:
            self._started_at[trial.trial_id] = time.monotonic()
        return trial

    @keras_tuner.synchronized
    def end_trial(self, trial):
        started = self._started_at.pop(trial.trial_id, None)
        if started is not None and trial.status == TrialStatus.COMPLETED:
            self._durations.append(time.monotonic() - started)
        return super().end_trial(trial)


class HyperbandOracle(BudgetMixin, keras_tuner.oracles.HyperbandOracle):
    """Hyperband with the time budget and a ``max_trials`` limit."""


class DefaultsFirstMixin:
    """The first trial of a fresh search tries every hyperparameter's default value.

    The model builders choose their defaults to be a strong configuration (as AutoKeras
    seeds its search with known-good ones), so the search has a sound result from its
    first trial on - which matters when the budget allows only a few expensive trials.
    Later trials are the wrapped oracle's own choices.

    When the tuner stops that first trial early to have a first model soon (its
    ``first_trial_s``), it calls :meth:`continue_trial`, and the next trial continues
    it: the same values, from the first trial's best epoch and weights (keras-tuner's
    ``tuner/trial_id`` and ``tuner/initial_epoch``, as Hyperband's rounds), so the
    strong defaults are not judged on a truncated fit.
    """

    #: Tells the tuner that a trial it stops early can be continued (see above).
    continues_trials = True
    _to_continue: tuple[str, int] | None = None

    def continue_trial(self, trial_id: str, epochs: int) -> None:
        """Make the next trial continue ``trial_id`` from its epoch ``epochs``."""
        self._to_continue = (trial_id, int(epochs))

    def populate_space(self, trial_id):
        if not self.trials:
            values = _default_values(self.hyperparameters)
            if values is not None:
                return {"status": TrialStatus.RUNNING, "values": values}
        if self._to_continue is not None and self._to_continue[0] in self.trials:
            parent, epochs = self._to_continue
            self._to_continue = None
            values = dict(self.trials[parent].hyperparameters.values)
            values.update({"tuner/trial_id": parent, "tuner/initial_epoch": epochs})
            return {"status": TrialStatus.RUNNING, "values": values}
        return super().populate_space(trial_id)

    def get_state(self):
        state = super().get_state()
        state["dladvisor_to_continue"] = self._to_continue
        return state

    def set_state(self, state):
        super().set_state(state)
        found = state.get("dladvisor_to_continue")
        self._to_continue = tuple(found) if found else None


def _default_values(space) -> dict | None:
    """The default of every active hyperparameter of ``space`` (None if it is empty)."""
    if not space.space:
        return None
    hps = keras_tuner.HyperParameters()
    for hp in space.space:
        hps.merge([hp])
        if hps.is_active(hp):
            hps.values[hp.name] = hp.default
    return hps.values


class BayesianOptimizationOracle(
    BudgetMixin, DefaultsFirstMixin, keras_tuner.oracles.BayesianOptimizationOracle
):
    """Bayesian optimisation with the time budget; the defaults are tried first."""


class RandomSearchOracle(BudgetMixin, DefaultsFirstMixin, keras_tuner.oracles.RandomSearchOracle):
    """Random search with the time budget; the defaults are tried first."""
