"""Exact returns of many policies at once (the members of an enumerated class), and Q* of
many rewards at once (the planners of a class).

Small worlds: every policy's discounted state occupancy comes from one batched dense solve
(`alignlens.solve.exact.evaluation.occupancies`), and its return under each reward is the
occupancy-weighted reward; plain NumPy, so a small world needs no compiler at all. Larger
worlds take one certified evaluation per policy and reward (`evaluate`), and their Q* one
exact optimisation per reward.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from alignlens.solve.exact.evaluation import DENSE_LIMIT as DENSE_EVALUATION
from alignlens.solve.exact.evaluation import evaluate, occupancies
from alignlens.solve.exact.optimum import optimize
from alignlens.world.model import Environment

DENSE_LIMIT = 400  # states up to which the planners' Q* is one batched value iteration


def evaluate_many(
    env: Environment, reward: Float[np.ndarray, "S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, " N"]:
    """J^env_reward of every policy (rows of action probabilities per state)."""
    return returns_many(env, reward[None], policies)[:, 0]


def returns_many(
    env: Environment, rewards: Float[np.ndarray, "M S A"], policies: Float[np.ndarray, "N S A"]
) -> Float[np.ndarray, "N M"]:
    """J^env of every distinct policy (a training trace repeats its policy once it has
    settled) under every reward: J = Σ_s d(s) Σ_a π(a|s) r(s, a), with d the discounted
    occupancy from the start (zero at terminal states)."""
    n_policies = policies.shape[0]
    if n_policies > 1:
        distinct, which = np.unique(policies.reshape(n_policies, -1), axis=0, return_inverse=True)
        if distinct.shape[0] < n_policies:
            found = returns_many(env, rewards, distinct.reshape(-1, *policies.shape[1:]))
            return found[which.reshape(-1)]
    if int((~env.terminal).sum()) > DENSE_EVALUATION:
        values = [[evaluate(env, r, p).value for r in rewards] for p in policies]
        return np.array(values).reshape(n_policies, rewards.shape[0])
    policies = np.asarray(policies, dtype=np.float64)
    occupancy = occupancies(env, policies)  # [N, S]
    return np.einsum("ns,nsa,msa->nm", occupancy, policies, rewards, optimize=True)


def optimal_q_many(
    env: Environment, rewards: Float[np.ndarray, "N S A"], *, tolerance: float = 1e-12
) -> Float[np.ndarray, "N S A"]:
    """Q* of many rewards in one environment (batched value iteration to a proven bound).

    The sup-norm error of every Q is at most ``tolerance`` times the reward scale (or exact,
    with a horizon), so ties can be told from real gaps far above it.
    """
    if env.n_states > DENSE_LIMIT:
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
