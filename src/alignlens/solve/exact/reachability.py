"""Which states a policy can reach, and which states no policy of a set can avoid.

A policy restricted to action sets ``allowed`` (a boolean [S, A] mask) reaches a state
when some path of positive probability leads there. A state is *unavoidable* under the
mask when every such policy reaches it: the agent picks actions, but every successor of
positive probability counts as reached. That is a safety game per target state, solved
here for many targets at once as a greatest fixed point over boolean arrays.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool

from alignlens.world.graph import successor_reach
from alignlens.world.model import Environment


def reachable(
    env: Environment,
    allowed: Bool[np.ndarray, "S A"] | None = None,
    sources: Bool[np.ndarray, " S"] | None = None,
) -> Bool[np.ndarray, " S"]:
    """States reachable from ``sources`` (default: the start support) with allowed actions."""
    start = env.start > 0 if sources is None else sources
    return successor_reach(start, env.next_state, env.prob, env.terminal, allowed)


def unavoidable(
    env: Environment,
    allowed: Bool[np.ndarray, "S A"],
    *,
    work_limit: float = 2e9,
) -> Bool[np.ndarray, " S"]:
    """States that every policy restricted to ``allowed`` reaches from the start.

    The start support is always unavoidable. Other candidates are the states reached
    under two extreme action choices (first and last allowed action). If checking them all
    would exceed ``work_limit`` elementary steps, only the start support and the states
    checked so far are returned: a subset, which keeps every bound built on it sound.
    """
    start = env.start > 0
    first = _choice(allowed, last=False)
    last = _choice(allowed, last=True)
    candidates = np.flatnonzero(reachable(env, first) & reachable(env, last) & ~start)
    result = start.copy()
    if candidates.size == 0:
        return result
    s, a, k = env.next_state.shape
    per_target = float(s * a * k) * max(1, s)
    chunk = max(1, min(candidates.size, int(2e7 // (s * a * k) or 1)))
    budget = work_limit
    for i in range(0, candidates.size, chunk):
        targets = candidates[i : i + chunk]
        if budget < per_target * targets.size:
            break
        avoid = _avoiding(env, allowed, targets)  # [S, T]: can stay away from target t
        result[targets] = ~avoid[start].all(axis=0)
        budget -= per_target * targets.size
    return result


def _avoiding(
    env: Environment, allowed: Bool[np.ndarray, "S A"], targets: np.ndarray
) -> Bool[np.ndarray, "S T"]:
    """X[s, t]: from s, some allowed strategy never reaches target t (greatest fixed point)."""
    n = env.n_states
    x = np.ones((n, targets.size), dtype=bool)
    x[targets, np.arange(targets.size)] = False
    positive = env.prob > 0  # [S, A, K]
    live = ~env.terminal
    while True:
        succ = x[env.next_state]  # [S, A, K, T]
        safe = np.all(succ | ~positive[..., None], axis=2)  # [S, A, T]
        ok = np.any(safe & allowed[..., None], axis=1)  # [S, T]
        new = np.where(live[:, None], ok, True)
        new[targets, np.arange(targets.size)] = False
        new &= x
        if np.array_equal(new, x):
            return x
        x = new


def _choice(allowed: Bool[np.ndarray, "S A"], *, last: bool) -> Bool[np.ndarray, "S A"]:
    index = (
        allowed.shape[1] - 1 - np.argmax(allowed[:, ::-1], axis=1)
        if last
        else np.argmax(allowed, axis=1)
    )
    out = np.zeros_like(allowed)
    out[np.arange(allowed.shape[0]), index] = True
    return out
