"""The trace of a training run: exact returns of the recorded policies."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float, Int

from alignlens.learned import Trace
from alignlens.solve.exact.many_policies import returns_many
from alignlens.world.model import World


def trace_of(
    world: World, tables: Float[np.ndarray, "T S A"], steps: Int[np.ndarray, " T"]
) -> Trace:
    """The trace of recorded action tables: exact returns of each under R, U and every goal,
    in both environments."""

    names = ["base", "intended", *(f"goal:{g}" for g in world.goals)]
    rewards = np.stack([world.base, world.intended, *world.goals.values()])
    returns = {}
    for env_name in ("train", "deploy"):
        values = returns_many(world.environment(env_name), rewards, tables)  # [records, O]
        for i, name in enumerate(names):
            returns[f"{env_name}_{name}"] = values[:, i]
    return Trace(steps, returns)
