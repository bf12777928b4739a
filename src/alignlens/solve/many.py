"""Exact optima of many small worlds at once: one vmapped JAX program (float64).

The first piece of sweeps' batched diagnosis. Worlds of one shape (states, actions; the
successor slots padded with impossible successors) are stacked along a leading axis, and
each world's best (or worst) values under a reward, optionally restricted to allowed
actions, come from the same two stages as `alignlens.solve.optimize`: value iteration
to within 1% of the reward scale, then policy iteration with exact dense evaluations
until no allowed action improves any state by more than round-off. The values returned
are the exact values of the final (optimal) deterministic policy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.errors import AlignlensError
from alignlens.world.model import Environment

ROUND_OFF = 1e-12
POLICY_STEPS = 50  # policy iteration from a near-optimal start converges in a few


def stack_environments(
    envs: Sequence[Environment],
) -> tuple[Int[np.ndarray, "B S A K"], Float[np.ndarray, "B S A K"], Bool[np.ndarray, "B S"]]:
    """Successor indices, probabilities (padded to the largest K) and terminal masks."""
    k = max(e.next_state.shape[2] for e in envs)

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, 0), (0, k - x.shape[2])))

    return (
        np.stack([pad(e.next_state) for e in envs]),
        np.stack([pad(e.prob) for e in envs]),
        np.stack([e.terminal for e in envs]),
    )


def optima_many(
    next_state: Int[np.ndarray, "B S A K"],
    prob: Float[np.ndarray, "B S A K"],
    terminal: Bool[np.ndarray, "B S"],
    reward: Float[np.ndarray, "B S A"],
    discount: Float[np.ndarray, " B"],
    *,
    sense: Literal["max", "min"] = "max",
    allowed: Bool[np.ndarray, "B S A"] | None = None,
) -> tuple[Float[np.ndarray, "B S"], Float[np.ndarray, "B S A"]]:
    """V and Q of each world's best (``sense="max"``) or worst policy among the allowed
    actions (all by default), exactly; Q is −∞ (max) or +∞ (min) at actions not allowed."""
    import jax.numpy as jnp

    from alignlens.solve import backup_jax  # noqa: F401  (float64 everywhere)

    sign = 1.0 if sense == "max" else -1.0
    if allowed is None:
        allowed = np.ones(reward.shape, dtype=bool)
    gamma_max = float(np.max(discount))
    if gamma_max >= 1.0:
        raise AlignlensError(
            "batched optima need discounting",
            field="discount",
            fix="use γ < 1, or the per-world solver (alignlens.solve.optimize)",
        )
    # γ^n / (1 − γ) ≤ 1% of the reward scale: enough sweeps for policy iteration's basin.
    sweeps = int(np.ceil(np.log(0.01 * (1 - gamma_max)) / np.log(gamma_max))) + 1
    solve = _program(sweeps)
    values, q = solve(
        jnp.asarray(next_state),
        jnp.asarray(prob),
        jnp.asarray(terminal),
        jnp.asarray(sign * reward),
        jnp.asarray(discount, dtype=jnp.float64),
        jnp.asarray(allowed),
    )
    return sign * np.asarray(values), sign * np.asarray(q)


@functools.cache
def _program(sweeps: int):  # one jitted program per sweep count, compiled once per shape
    import jax
    import jax.numpy as jnp

    def one(next_state, prob, terminal, reward, gamma, allowed):
        n = next_state.shape[0]
        live = ~terminal
        reward = jnp.where(live[:, None], reward, 0.0)

        def q_of(v):
            follow = jnp.where(terminal[next_state], 0.0, v[next_state])  # [S, A, K]
            q = reward + gamma * jnp.sum(prob * follow, axis=2)
            return jnp.where(allowed, q, -jnp.inf)

        def best(q):
            return jnp.where(live, jnp.max(q, axis=1), 0.0)

        v = jax.lax.fori_loop(0, sweeps, lambda _, v: best(q_of(v)), jnp.zeros(n))

        def evaluate(policy):
            chosen = jax.nn.one_hot(policy, reward.shape[1], dtype=prob.dtype)  # [S, A]
            weight = jnp.where(live[:, None, None], chosen[:, :, None] * prob, 0.0)
            rows = jnp.broadcast_to(jnp.arange(n)[:, None, None], next_state.shape)
            p = jnp.zeros((n, n)).at[rows.ravel(), next_state.ravel()].add(weight.ravel())
            p = jnp.where(terminal[None, :], 0.0, p)
            r = jnp.sum(chosen * reward, axis=1)
            return jnp.linalg.solve(jnp.eye(n) - gamma * p, r)

        def improve(state):
            policy, v, _, steps = state
            q = q_of(v)
            margin = ROUND_OFF * jnp.maximum(1.0, jnp.max(jnp.abs(v)))
            current = jnp.take_along_axis(q, policy[:, None], axis=1)[:, 0]
            better = live & (jnp.max(q, axis=1) > current + margin)
            policy = jnp.where(better, jnp.argmax(q, axis=1), policy)
            return policy, evaluate(policy), jnp.any(better), steps + 1

        policy0 = jnp.argmax(q_of(v), axis=1)
        state = (policy0, evaluate(policy0), jnp.array(True), 0)
        _, v, _, _ = jax.lax.while_loop(lambda s: s[2] & (s[3] < POLICY_STEPS), improve, state)
        return v, q_of(v)

    return jax.jit(jax.vmap(one))
