"""Episode lengths of Gymnasium environments: the time limits they carry, and the horizon of
a world read from two of them (``"time-limit"``, a number of steps, or None)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from alignlens.errors import WorldError

TIME_LIMIT = "time-limit"


def parse_horizon(text: str, option: str) -> int | str | None:
    """A horizon option: "time-limit", "none" or a positive number of steps."""
    word = text.strip().lower()
    if word == TIME_LIMIT:
        return TIME_LIMIT
    if word == "none":
        return None
    if word.isascii() and word.isdecimal() and int(word) >= 1:
        return int(word)
    raise WorldError(
        f"{text!r} is not an episode length",
        field=option,
        fix=f"give {TIME_LIMIT} (where the environments cut episodes), a positive number of "
        "steps, or none (ignore time limits)",
    )


Horizon = int | str | None


def time_limit(env: Any) -> int | None:
    """The episode length of the ``TimeLimit`` wrappers around ``env`` (the shortest, if
    several), or None."""
    import gymnasium

    limits = []
    layer = env
    while isinstance(layer, gymnasium.Wrapper):
        if isinstance(layer, gymnasium.wrappers.TimeLimit):
            limits.append(int(layer._max_episode_steps))
        layer = layer.env
    return min(limits, default=None)


def beyond_limits(limits: Mapping[str, int | None], horizon: int | None) -> list[str]:
    """Notes for environments whose time limit cuts episodes before ``horizon``."""
    return [
        f"the {e} environment cuts episodes after {n} steps; the world runs them to "
        f"{horizon}, steps its agents never take"
        for e, n in limits.items()
        if n is not None and horizon is not None and horizon > n
    ]


def resolve_horizon(
    limits: Mapping[str, int | None], discount: float, horizon: Horizon = TIME_LIMIT
) -> int | None:
    """The world's horizon: ``horizon`` where it is a number or None, else the common episode
    length ``limits`` gives each environment (a clear error where they differ); discount 1
    needs one."""
    where = "horizon=N (--horizon N on the command line)"
    if horizon == TIME_LIMIT:
        lengths = set(limits.values())
        if len(lengths) > 1:
            said = ", ".join(
                f"the {e} environment's {'at ' + str(n) + ' steps' if n else 'never'}"
                for e, n in limits.items()
            )
            raise WorldError(
                f"the environments cut episodes at different lengths ({said})",
                field="horizon",
                fix=f"give one episode length for both, {where}, or ignore the time limits, "
                "horizon=None (--horizon none)",
            )
        horizon = lengths.pop() if lengths else None
    elif horizon is not None and (
        isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1
    ):
        raise WorldError(
            f"horizon {horizon!r} is not a number of steps",
            field="horizon",
            fix=f'give a positive whole number of steps, "{TIME_LIMIT}" or None',
        )
    if horizon is None and discount >= 1.0:
        raise WorldError(
            "discount 1 without a finite horizon: returns can be infinite",
            field="horizon",
            fix=f"give the episode length, {where}, or a discount below 1",
        )
    return None if horizon is None else int(horizon)
