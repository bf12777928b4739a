"""MiniGrid environments with static layouts as exact worlds (MiniGrid is an optional extra,
imported lazily).

A MiniGrid state is the agent's position and direction (the layout does not change, which
is checked: two resets must give the same grid), so the environments are enumerated by
search from ``reset`` with that as the state key. MiniGrid pays 1 − 0.9·t/T for reaching
the goal at step t of at most T; that depends on the step count, which the state leaves
out, so R here is 1 for reaching the goal and discounting (``discount``) stands in for the
time penalty. MiniGrid cuts episodes after ``max_steps`` steps: that is the world's horizon
by default (time-augmented states, as for a Gymnasium ``TimeLimit``). Actions keep
MiniGrid's names (left, right, forward, pickup, drop, toggle, done). Pass the environments
wrapped as the agent saw them (e.g. ``ImgObsWrapper``): observations are recorded as the
outermost wrapper returns them.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np

from alignlens.errors import WorldError
from alignlens.world.gym_horizon import TIME_LIMIT, Horizon, resolve_horizon, time_limit
from alignlens.world.gymnasium import STATE_LIMIT, GymWorld, Objective, world_from_gymnasium


def is_minigrid(env: Any) -> bool:
    """Whether ``env`` is a MiniGrid environment (it has an agent position and a grid)."""
    return hasattr(env.unwrapped, "agent_pos") and hasattr(env.unwrapped, "grid")


def agent_state(env: Any) -> Hashable:
    """(x, y, direction) of the agent."""
    u = env.unwrapped
    return (int(u.agent_pos[0]), int(u.agent_pos[1]), int(u.agent_dir))


def minigrid_world(
    train_env: Any,
    deploy_env: Any,
    *,
    intended: Objective | None = None,
    goals: Mapping[str, Objective] | None = None,
    discount: float = 0.99,
    horizon: Horizon = TIME_LIMIT,
    deploy_share: float = 0.5,
    state_limit: int = STATE_LIMIT,
    name: str | None = None,
) -> GymWorld:
    """The exact world of two MiniGrid environments with static layouts (see the module).
    ``horizon`` "time-limit" is the episode length at which MiniGrid (or a ``TimeLimit``
    around it) cuts episodes; an integer sets it, None ignores it."""
    for env_name, env in (("train", train_env), ("deploy", deploy_env)):
        if not is_minigrid(env):
            raise WorldError(
                f"the {env_name} environment is not a MiniGrid environment",
                field=f"{env_name}_env",
                fix="use world_from_gymnasium for other environments",
            )
        layouts = []
        for seed in (0, 1):
            env.reset(seed=seed)
            layouts.append(env.unwrapped.grid.encode())
        if not np.array_equal(*layouts):
            raise WorldError(
                f"the {env_name} environment draws a new layout on every reset",
                field=f"{env_name}_env",
                fix="use a MiniGrid environment with a static layout (e.g. DistShift, LavaGap "
                "with a fixed seed wrapper)",
            )
    steps = min(getattr(env.unwrapped, "max_steps", math.inf) for env in (train_env, deploy_env))
    if isinstance(horizon, int) and not isinstance(horizon, bool) and horizon > steps:
        raise WorldError(
            f"MiniGrid ends these episodes after {steps} steps; a horizon of {horizon} would "
            "score goals reached later, which MiniGrid pays nothing for, as successes",
            field="horizon",
            fix=f"give a horizon of at most {steps} steps, or leave the default (time-limit)",
        )
    if horizon == TIME_LIMIT:
        limits = {
            env_name: min(
                (
                    n
                    for n in (time_limit(env), getattr(env.unwrapped, "max_steps", None))
                    if n is not None
                ),
                default=None,
            )
            for env_name, env in (("train", train_env), ("deploy", deploy_env))
        }
        horizon = resolve_horizon(limits, discount)
    actions = [a.name for a in train_env.unwrapped.actions]
    return world_from_gymnasium(
        train_env,
        deploy_env,
        intended=intended,
        goals=goals,
        method="search",
        state_key=agent_state,
        reward=lambda r: float(r > 0),
        state_limit=state_limit,
        discount=discount,
        horizon=horizon,
        deploy_share=deploy_share,
        action_names=actions,
        name=name,
    )
