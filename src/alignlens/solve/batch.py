"""Exact returns of many policies at once (the members of an enumerated class), and Q* of
many rewards at once (the planners of a class).

Small worlds: each policy's transition matrix is built by one scatter (`np.bincount`) and
all are solved densely by one batched `np.linalg.solve`, in chunks that bound memory;
plain NumPy, so a small world needs no compiler at all. Larger worlds fall back to one
sparse exact evaluation (or one exact optimisation) per policy (reward).
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from alignlens.solve.evaluation import evaluate
from alignlens.world.model import Environment

DENSE_LIMIT = 400  # states
CHUNK_BYTES = 2**27


def evaluate_many(
    env: Environment, reward: Float[np.ndarray, "S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, " N"]:
    """J^env_reward of every policy (rows of action probabilities per state)."""
    return returns_many(env, reward[None], policies)[:, 0]


def returns_many(
    env: Environment, rewards: Float[np.ndarray, "M S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, "N M"]:
    """J^env of every policy under every reward: one linear system per distinct policy (a
    training trace repeats its policy once it has settled), M right sides."""
    n_policies, n_states, _ = policies.shape
    if n_policies > 1:
        distinct, which = np.unique(policies.reshape(n_policies, -1), axis=0, return_inverse=True)
        if distinct.shape[0] < n_policies:
            found = returns_many(env, rewards, distinct.reshape(-1, *policies.shape[1:]))
            return found[which.reshape(-1)]
    if n_states > DENSE_LIMIT:
        return np.array([[evaluate(env, r, p).value for r in rewards] for p in policies]).reshape(
            n_policies, rewards.shape[0]
        )
    chunk = max(1, CHUNK_BYTES // (8 * n_states * n_states))
    out = [
        dense_returns(env, rewards, np.asarray(policies[i : i + chunk], dtype=np.float64))
        for i in range(0, n_policies, chunk)
    ]
    return np.concatenate(out) if out else np.zeros((0, rewards.shape[0]))


def dense_returns(
    env: Environment, rewards: Float[np.ndarray, "M S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, "N M"]:
    """J of N policies under M rewards by N dense solves of (I − γP_π) V = r_π."""
    n, s, a = policies.shape
    k = env.next_state.shape[2]
    live = ~env.terminal
    weight = policies[:, :, :, None] * np.where(live[:, None, None], env.prob, 0.0)  # [N,S,A,K]
    rows = np.broadcast_to(np.arange(s)[:, None, None], (s, a, k))
    cell = (rows * s + env.next_state).ravel()  # the (s, s') cell of each successor slot
    index = (np.arange(n)[:, None] * (s * s) + cell[None, :]).ravel()
    p = np.bincount(index, weight.ravel(), minlength=n * s * s).reshape(n, s, s)
    r = np.einsum("nsa,msa->nsm", policies, rewards) * live[None, :, None]  # [N, S, M]
    values = np.linalg.solve(np.eye(s) - env.discount * p, r)  # [N, S, M]
    return np.einsum("s,nsm->nm", env.start, values)


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
    rewards = np.asarray(rewards, dtype=np.float64)
    scale = max(1.0, float(np.abs(rewards).max(initial=0.0)))
    if env.discount < 1:
        threshold = tolerance * scale * (1 - env.discount) / env.discount
        sweeps = 1_000_000
    else:
        threshold, sweeps = 0.0, int(env.depth or 1) + 1
    live = ~env.terminal[None, :, None]
    values = np.zeros(rewards.shape[:2])

    def q_of(v: np.ndarray) -> np.ndarray:  # [N, S] -> [N, S, A]
        expected = np.einsum("sak,nsak->nsa", env.prob, v[:, env.next_state])
        return np.where(live, rewards + env.discount * expected, 0.0)

    for _ in range(sweeps):  # until every max |V_k − V_{k−1}| ≤ threshold
        new = q_of(values).max(axis=-1)
        change = float(np.abs(new - values).max(initial=0.0))
        values = new
        if change <= threshold:
            break
    return q_of(values)
