"""Optima of many small worlds at once, against the per-world exact solver and linear
programming."""

from __future__ import annotations

import numpy as np
import pytest

from alignlens import world_from_dict
from alignlens.solve import optimize
from alignlens.solve.many import optima_many, stack_environments
from alignlens.sweep.generator import WorldSpec, random_world
from test_solvers import lp_optimal_values


@pytest.mark.parametrize("sense", ["max", "min"])
@pytest.mark.parametrize("rewards", ["integers", "normal"])
def test_batched_optima_equal_the_per_world_solver(sense: str, rewards: str) -> None:
    spec = WorldSpec(states=10, actions=3, successors=3, rewards=rewards, shift="dynamics")
    worlds = [world_from_dict(random_world(spec, s)) for s in range(40)]
    for env_name in ("train", "deploy"):
        envs = [w.environment(env_name) for w in worlds]
        next_state, prob, terminal = stack_environments(envs)
        reward = np.stack([w.base for w in worlds])
        discount = np.array([w.discount for w in worlds])
        values, q = optima_many(next_state, prob, terminal, reward, discount, sense=sense)
        for i, (env, w) in enumerate(zip(envs, worlds, strict=True)):
            want = optimize(env, w.base, sense=sense)
            np.testing.assert_allclose(values[i], want.values, atol=1e-9)
            np.testing.assert_allclose(q[i], want.q, atol=1e-9)


def test_batched_optima_with_allowed_actions_match_linear_programming() -> None:
    """Restricted to a random half of the actions (at least one per state), the maximum
    equals the LP optimum of the world whose other actions pay −10⁶ (never worth taking,
    so their constraints never bind)."""
    rng = np.random.default_rng(0)
    spec = WorldSpec(states=8, actions=3)
    worlds = [world_from_dict(random_world(spec, s)) for s in range(10)]
    envs = [w.train for w in worlds]
    next_state, prob, terminal = stack_environments(envs)
    allowed = rng.random((10, worlds[0].n_states, 3)) < 0.5
    allowed[np.arange(10)[:, None], np.arange(worlds[0].n_states)[None], 0] = True
    reward = np.stack([w.base for w in worlds])
    values, _ = optima_many(next_state, prob, terminal, reward, np.full(10, 0.9), allowed=allowed)
    for i, env in enumerate(envs):
        want = lp_optimal_values(env, np.where(allowed[i], worlds[i].base, -1e6))
        np.testing.assert_allclose(values[i], want, atol=1e-7)


def test_undiscounted_worlds_are_refused_clearly() -> None:
    from alignlens.errors import AlignlensError

    world = world_from_dict(random_world(WorldSpec(states=4, actions=2), 0))
    next_state, prob, terminal = stack_environments([world.train])
    with pytest.raises(AlignlensError, match="discount"):
        optima_many(next_state, prob, terminal, world.base[None], np.array([1.0]))
