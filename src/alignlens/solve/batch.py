"""Exact returns of many policies at once (the members of an enumerated class).

Small worlds: each policy's transition matrix is built by a scatter and solved densely,
vmapped over policies in JAX, in chunks that bound memory. Larger worlds fall back to one
sparse exact evaluation per policy.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from alignlens.solve.evaluation import evaluate
from alignlens.world.model import Environment

DENSE_LIMIT = 400  # states
CHUNK_BYTES = 2**28


def evaluate_many(
    env: Environment, reward: Float[np.ndarray, "S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, " N"]:
    """J^env_reward of every policy (rows of action probabilities per state)."""
    n_policies, n_states, _ = policies.shape
    if n_states > DENSE_LIMIT:
        return np.array([evaluate(env, reward, p).value for p in policies])
    import jax.numpy as jnp

    solve = _dense_solver()
    chunk = max(1, CHUNK_BYTES // (8 * n_states * n_states))
    args = [jnp.asarray(x) for x in (env.next_state, env.prob, env.terminal, env.start, reward)]
    out = [
        np.asarray(solve(*args, jnp.asarray(env.discount), jnp.asarray(policies[i : i + chunk])))
        for i in range(0, n_policies, chunk)
    ]
    return np.concatenate(out) if out else np.zeros(0)


def _dense_solver():
    import jax
    import jax.numpy as jnp

    from alignlens.solve import backup_jax  # noqa: F401  (enables float64)

    def one(next_state, prob, terminal, start, reward, discount, policy):
        n, a, k = next_state.shape
        weight = jnp.where(terminal[:, None, None], 0.0, policy[:, :, None] * prob)
        rows = jnp.broadcast_to(jnp.arange(n)[:, None, None], (n, a, k))
        p = (
            jnp.zeros((n, n), dtype=prob.dtype)
            .at[rows.ravel(), next_state.ravel()]
            .add(weight.ravel())
        )
        r = jnp.where(terminal, 0.0, jnp.sum(policy * reward, axis=1))
        values = jnp.linalg.solve(jnp.eye(n, dtype=prob.dtype) - discount * p, r)
        return start @ values

    return jax.jit(jax.vmap(one, in_axes=(None, None, None, None, None, None, 0)))
