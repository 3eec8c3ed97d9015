"""Registry of search algorithms (keras-tuner oracles) by name.

Importing this module imports no keras-tuner; :func:`create_oracle` does.
"""

from __future__ import annotations

from typing import Any, Callable

from dladvisor.errors import ConfigError
from dladvisor.tuning.budget import Deadline

__all__ = ["DEFAULT_TUNER", "TUNER_NAMES", "create_oracle", "check_tuner_name"]

DEFAULT_TUNER = "hyperband"


def _hyperband(common: dict[str, Any], *, max_trials, max_epochs, factor):
    from dladvisor.tuning._oracles import HyperbandOracle

    # Hyperband takes no max_trials; BudgetMixin enforces it.
    return HyperbandOracle(max_epochs=max_epochs, factor=factor, **common)


def _bayesian(common: dict[str, Any], *, max_trials, max_epochs, factor):
    from dladvisor.tuning._oracles import BayesianOptimizationOracle

    return BayesianOptimizationOracle(max_trials=max_trials, **common)


def _random(common: dict[str, Any], *, max_trials, max_epochs, factor):
    from dladvisor.tuning._oracles import RandomSearchOracle

    return RandomSearchOracle(max_trials=max_trials, **common)


_REGISTRY: dict[str, Callable[..., Any]] = {
    "bayesian": _bayesian,
    "hyperband": _hyperband,
    "random": _random,
}

#: Valid ``--tuner`` names, sorted.
TUNER_NAMES: tuple[str, ...] = tuple(sorted(_REGISTRY))


def check_tuner_name(name: str) -> str:
    """Return ``name`` if it is a registered tuner.

    Raises:
        ConfigError: unknown name; the message lists the valid ones.
    """
    if name not in _REGISTRY:
        raise ConfigError(
            f"--tuner: unknown tuner {name!r}; expected one of {', '.join(TUNER_NAMES)}."
        )
    return name


def create_oracle(
    name: str,
    *,
    objective: str,
    max_trials: int | None,
    seed: int,
    deadline: Deadline,
    max_epochs: int,
    factor: int = 3,
    max_consecutive_failures: int | None = 3,
):
    """Build the named keras-tuner oracle with dladvisor's stopping rules.

    Args:
        name: one of :data:`TUNER_NAMES`.
        objective: the metric to optimise, e.g. "val_loss" (minimised) or
            "val_accuracy" (maximised); keras-tuner infers the direction from the name.
        max_trials: trials to run at most, resumed ones included; None for no limit.
        seed: random seed of the search, 0 or more.
        deadline: no trial starts once it has (nearly) expired.
        max_epochs: Hyperband's epochs for its longest trials; ignored by the others.
        factor: Hyperband's reduction factor; ignored by the others.
        max_consecutive_failures: stop after this many failed trials in a row.

    Returns:
        A ``keras_tuner.Oracle`` that also has ``stop_reason`` (see
        ``dladvisor.tuning._oracles.BudgetMixin``).

    Raises:
        ConfigError: unknown name.
    """
    factory = _REGISTRY[check_tuner_name(name)]
    common = {
        "objective": objective,
        # keras-tuner treats a seed of 0 as "no seed" and draws a random one; shifting
        # by one keeps --seed 0 reproducible.
        "seed": seed + 1,
        # No retries: a trial that raised is recorded as FAILED with its reason.
        "max_retries_per_trial": 0,
    }
    oracle = factory(common, max_trials=max_trials, max_epochs=max_epochs, factor=factor)
    # keras-tuner's oracle prints each trial with bare print(); dladvisor reports
    # through its ProgressReporter instead.
    oracle.verbose = 0
    oracle.configure_budget(
        deadline=deadline,
        max_trials=max_trials,
        max_consecutive_failures=max_consecutive_failures,
    )
    return oracle
