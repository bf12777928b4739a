"""Exact returns of many policies at once (the members of an enumerated class).

Small worlds: each policy's transition matrix is built by a scatter and solved densely,
vmapped over policies in JAX, in chunks that bound memory. Larger worlds fall back to one
sparse exact evaluation per policy.
"""

from __future__ import annotations

import functools

import numpy as np
from jaxtyping import Array, Bool, Float, Int

from alignlens.solve.evaluation import evaluate
from alignlens.world.model import Environment

DENSE_LIMIT = 400  # states
CHUNK_BYTES = 2**28


def evaluate_many(
    env: Environment, reward: Float[np.ndarray, "S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, " N"]:
    """J^env_reward of every policy (rows of action probabilities per state)."""
    return returns_many(env, reward[None], policies)[:, 0]


def returns_many(
    env: Environment, rewards: Float[np.ndarray, "M S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, "N M"]:
    """J^env of every policy under every reward: one linear system per policy, M right sides."""
    n_policies, n_states, _ = policies.shape
    if n_states > DENSE_LIMIT:
        return np.array([[evaluate(env, r, p).value for r in rewards] for p in policies]).reshape(
            n_policies, rewards.shape[0]
        )
    import jax.numpy as jnp

    solve = _dense_solver()
    chunk = max(1, CHUNK_BYTES // (8 * n_states * n_states))
    args = [jnp.asarray(x) for x in (env.next_state, env.prob, env.terminal, env.start, rewards)]
    out = [
        np.asarray(solve(*args, jnp.asarray(env.discount), jnp.asarray(policies[i : i + chunk])))
        for i in range(0, n_policies, chunk)
    ]
    return np.concatenate(out) if out else np.zeros((0, rewards.shape[0]))


def dense_returns(
    next_state: Int[Array, "S A K"],
    prob: Float[Array, "S A K"],
    terminal: Bool[Array, " S"],
    start: Float[Array, " S"],
    rewards: Float[Array, "M S A"],
    discount: Float[Array, ""] | float,
    policy: Float[Array, "S A"],
) -> Float[Array, " M"]:
    """J of one policy under M rewards, by a dense solve (JAX; differentiable in the policy)."""
    import jax.numpy as jnp

    n, a, k = next_state.shape
    weight = jnp.where(terminal[:, None, None], 0.0, policy[:, :, None] * prob)
    rows = jnp.broadcast_to(jnp.arange(n)[:, None, None], (n, a, k))
    p = jnp.zeros((n, n), dtype=prob.dtype).at[rows.ravel(), next_state.ravel()].add(weight.ravel())
    r = jnp.where(terminal[None, :], 0.0, jnp.sum(policy[None] * rewards, axis=2))  # [M, S]
    values = jnp.linalg.solve(jnp.eye(n, dtype=prob.dtype) - discount * p, r.T)  # [S, M]
    return start @ values


@functools.cache
def _dense_solver():  # a jitted function, built (and compiled) once
    import jax

    from alignlens.solve import backup_jax  # noqa: F401  (enables float64)

    return jax.jit(jax.vmap(dense_returns, in_axes=(None, None, None, None, None, None, 0)))


def optimal_q_many(
    env: Environment, rewards: Float[np.ndarray, "N S A"], *, tolerance: float = 1e-12
) -> Float[np.ndarray, "N S A"]:
    """Q* of many rewards in one environment (batched value iteration to a proven bound).

    The sup-norm error of every Q is at most ``tolerance`` times the reward scale (or exact,
    with a horizon), so ties can be told from real gaps far above it.
    """
    if env.n_states > DENSE_LIMIT:
        from alignlens.solve.optimum import optimize

        return np.stack([optimize(env, r).q for r in rewards])
    import jax.numpy as jnp

    from alignlens.solve import backup_jax

    scale = max(1.0, float(np.abs(rewards).max(initial=0.0)))
    if env.discount < 1:
        threshold = tolerance * scale * (1 - env.discount) / env.discount
        sweeps = 1_000_000
    else:
        threshold, sweeps = 0.0, int(env.depth or 1) + 1
    q = backup_jax.optimal_q_batch(
        jnp.asarray(env.next_state),
        jnp.asarray(env.prob),
        jnp.asarray(rewards),
        jnp.asarray(env.terminal),
        jnp.asarray(env.discount),
        jnp.asarray(threshold),
        jnp.asarray(sweeps),
    )
    return np.asarray(q)
