"""The world as pure JAX functions over explicit state, gymnax style.

``reset(key, params)`` and ``step(key, state, action, params)`` take every array of the
environment as ``params``: the successor table and probabilities of the compiled world,
its start distribution, the rewards of R, U and every goal, and the observation table
(`alignlens.world.observation`). Nothing is hidden in closures, so both functions jit and
vmap over keys, over environments (training and deployment params stacked) and over
levels (`per_level`). The reward of a step is the expected reward r(s, a) of the
compiled world, so the expected return of any policy is exactly the solvers' J.

An episode ends at a terminal state or after ``max_steps`` steps (``truncated``); `step`
then resets on its own, returning the first observation of the next episode and, in
``info``, whether and how the episode ended.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from alignlens.world.model import World
from alignlens.world.observation import grid_observations


class EnvParams(NamedTuple):
    """Everything the environment functions read.

    Attributes:
        next_state: successor indices [S, A, K].
        successor_cdf: cumulative probabilities of the successors [S, A, K] (1 from the
            last possible one on).
        start_cdf: the cumulative start distribution [S] (1 from the last start on).
        terminal: terminal states [S].
        rewards: expected reward per state and action of R, U and each goal, [2 + G, S, A].
        observations: what the agent sees in each state, [S, H, W, C].
        max_steps: the time limit of an episode.
    """

    next_state: Int[Array, "S A K"]
    successor_cdf: Float[Array, "S A K"]
    start_cdf: Float[Array, " S"]
    terminal: Bool[Array, " S"]
    rewards: Float[Array, "O S A"]
    observations: Float[Array, "S H W C"]
    max_steps: Int[Array, ""]


class EnvState(NamedTuple):
    """Where the agent is and how long its episode has run."""

    state: Int[Array, ""]
    time: Int[Array, ""]


def env_params(world: World, env: Literal["train", "deploy"], *, max_steps: int = 100) -> EnvParams:
    """The params of one of the world's environments (float32 rewards and observations)."""
    e = world.environment(env)
    rewards = np.stack([world.base, world.intended, *world.goals.values()])
    return EnvParams(
        next_state=jnp.asarray(e.next_state, dtype=jnp.int32),
        successor_cdf=cumulative(e.prob),
        start_cdf=cumulative(e.start),
        terminal=jnp.asarray(e.terminal),
        rewards=jnp.asarray(rewards, dtype=jnp.float32),
        observations=jnp.asarray(grid_observations(world)),
        max_steps=jnp.asarray(max_steps, dtype=jnp.int32),
    )


def cumulative(p: Float[np.ndarray, "... K"]) -> Float[Array, "... K"]:
    """Cumulative probabilities along the last axis, exactly 1 from the last positive one on,
    so that the first entry above a uniform draw u ∈ [0, 1) always has positive probability
    (inverse-CDF sampling: one uniform number per draw)."""
    total = p.sum(axis=-1, keepdims=True)
    cdf = np.cumsum(p, axis=-1) / np.where(total > 0, total, 1.0)
    last = p.shape[-1] - 1 - np.argmax((p > 0)[..., ::-1], axis=-1)  # 0 in an empty row
    cdf[np.arange(p.shape[-1]) >= last[..., None]] = 1.0
    return jnp.asarray(cdf, dtype=jnp.float32)


def draw(cdf: Float[Array, " K"], u: Float[Array, ""]) -> Int[Array, ""]:
    """The index i with cdf[i − 1] ≤ u < cdf[i]."""
    return jnp.searchsorted(cdf, u, side="right").astype(jnp.int32)


def per_level(world: World, params: EnvParams, env: Literal["train", "deploy"]) -> EnvParams:
    """``params`` with a leading level axis on ``start_cdf`` only: vmap `reset` with
    ``in_axes=(None, per_level_axes())`` to start one episode on each level."""
    grid = world.grid
    starts = world.environment(env).start
    rows = []
    if grid is not None:
        level = np.full(world.n_states, -1)
        real = world.base_state >= 0
        level[real] = grid.level[world.base_state[real]]
        for j in np.unique(level[starts > 0]):
            mask = np.where(level == j, starts, 0.0)
            rows.append(mask / mask.sum())
    else:
        rows.append(starts)
    return params._replace(start_cdf=cumulative(np.stack(rows)))


def per_level_axes() -> EnvParams:
    """The ``in_axes`` of `per_level` params."""
    return EnvParams(None, None, 0, None, None, None, None)  # type: ignore[arg-type]


def reset(key: Array, params: EnvParams) -> tuple[Float[Array, "H W C"], EnvState]:
    """A first observation and state, the state drawn from the start distribution."""
    s = draw(params.start_cdf, jax.random.uniform(key, dtype=params.start_cdf.dtype))
    return params.observations[s], EnvState(s, jnp.asarray(0, dtype=jnp.int32))


def step(
    key: Array, state: EnvState, action: Int[Array, ""], params: EnvParams
) -> tuple[Float[Array, "H W C"], EnvState, Float[Array, ""], Bool[Array, ""], dict]:
    """One step: (observation, state, reward R, done, info). ``info`` holds "intended" (U's
    reward), "goals" (each goal's reward), "terminated", "truncated" and "return_state"
    (the state reached before any reset)."""
    u_next, u_reset = jax.random.uniform(key, (2,), dtype=params.start_cdf.dtype)
    s, a = state.state, action
    s_next = params.next_state[s, a, draw(params.successor_cdf[s, a], u_next)]
    rewards = params.rewards[:, s, a]
    terminated = params.terminal[s_next]
    truncated = ~terminated & (state.time + 1 >= params.max_steps)
    done = terminated | truncated
    s_reset = draw(params.start_cdf, u_reset)
    state_reset = EnvState(s_reset, jnp.asarray(0, dtype=jnp.int32))
    after = EnvState(s_next, state.time + 1)
    new_state = jax.tree.map(lambda r, n: jnp.where(done, r, n), state_reset, after)
    obs = params.observations[jnp.where(done, s_reset, s_next)]
    info = {
        "intended": rewards[1],
        "goals": rewards[2:],
        "terminated": terminated,
        "truncated": truncated,
        "return_state": s_next,
    }
    return obs, new_state, rewards[0], done, info
