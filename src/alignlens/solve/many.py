"""Exact solutions of many small worlds at once: JAX kernels for one world, vmapped (float64).

The pieces of sweeps' batched diagnosis (`alignlens.solve.analyze_many`). Each function
here works on one world in the successor format ([S, A, K]) and is meant to be vmapped
over worlds and over problems within a world:

- `evaluate` and `evaluate_deterministic`: exact values of a policy, from one dense
  solve of (I − γP_π) v = r_π by Gaussian elimination (`gauss`: `jnp.linalg.solve`
  inside these vmapped loops deadlocked XLA's CPU runtime, jaxlib 0.10.2, in about half
  the runs);
- `solve`: the best values under a reward among allowed actions, by value-iteration
  sweeps, then policy iteration until no allowed action improves any state by more than a
  round-off margin — the same stopping rule as the per-world `alignlens.solve.optimize`,
  which also picks the same representative policy (the first action within the margin
  of the best at every state);
- `reach` and `unavoidable`: the state sets optimal sets need, as boolean fixed points.

`optima_many` wraps `solve` for stacked worlds (best or worst values and Q).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Literal

import numpy as np
from jaxtyping import Array, Bool, Float, Int

from alignlens.errors import AlignlensError
from alignlens.solve.backup_jax import q_values
from alignlens.world.model import Environment

ROUND_OFF = 1e-12
POLICY_STEPS = 100  # policy iteration on these worlds converges in a handful
FIRST_SWEEPS = 16  # value-iteration sweeps before policy iteration, from zero


def evaluate(
    next_state: Int[Array, "S A K"],
    prob: Float[Array, "S A K"],
    terminal: Bool[Array, " S"],
    discount: Float[Array, ""],
    policy: Float[Array, "S A"],
    rewards: Float[Array, "R S A"],
) -> Float[Array, "R S"]:
    """V^π of each reward for a stochastic policy (0 at terminal states; no reward is
    earned there)."""
    import jax.numpy as jnp

    weight = jnp.where(terminal[next_state], 0.0, prob) * policy[:, :, None]  # [S, A, K]
    n = next_state.shape[0]
    hits = next_state[..., None] == jnp.arange(n, dtype=next_state.dtype)  # [S, A, K, S]
    p = jnp.sum(jnp.where(hits, weight[..., None], 0.0), axis=(1, 2))
    r = jnp.einsum("sa,rsa->rs", policy, rewards)
    return _solve_values(p, r, terminal, discount)


def evaluate_deterministic(
    next_state: Int[Array, "S A K"],
    prob: Float[Array, "S A K"],
    terminal: Bool[Array, " S"],
    discount: Float[Array, ""],
    policy: Int[Array, " S"],
    reward: Float[Array, "S A"],
) -> Float[Array, " S"]:
    """V^π of a deterministic policy (action indices)."""
    import jax.numpy as jnp

    states = jnp.arange(next_state.shape[0], dtype=next_state.dtype)
    successor = next_state[states, policy]  # [S, K]
    weight = jnp.where(terminal[successor], 0.0, prob[states, policy])
    p = jnp.sum(jnp.where(successor[..., None] == states, weight[..., None], 0.0), axis=1)
    return _solve_values(p, reward[states, policy][None], terminal, discount)[0]


def _solve_values(
    p: Float[Array, "S S"],
    r: Float[Array, "R S"],
    terminal: Bool[Array, " S"],
    discount: Float[Array, ""],
) -> Float[Array, "R S"]:
    """The solution v of (I − γP) v = r, with terminal rows empty (so v = 0 there)."""
    import jax.numpy as jnp

    live = ~terminal
    p = jnp.where(live[:, None], p, 0.0)
    r = jnp.where(live[None, :], r, 0.0)
    return gauss(jnp.eye(p.shape[0]) - discount * p, r.T).T


def gauss(matrix: Float[Array, "S S"], rhs: Float[Array, "S R"]) -> Float[Array, "S R"]:
    """x with matrix · x = rhs, by Gaussian elimination without pivoting: the matrix must be
    strictly diagonally dominant by rows, as I − γP is for γ < 1."""
    import jax
    import jax.numpy as jnp

    n = matrix.shape[0]
    rows = jnp.arange(n)

    def eliminate(k: Array, system: tuple) -> tuple:
        a, b = system
        factor = jnp.where(rows > k, a[:, k] / a[k, k], 0.0)
        return a - factor[:, None] * a[k][None, :], b - factor[:, None] * b[k][None, :]

    matrix, rhs = jax.lax.fori_loop(0, n, eliminate, (matrix, rhs))

    def substitute(i: Array, x: Array) -> Array:
        k = n - 1 - i
        return x.at[k].set((rhs[k] - matrix[k] @ x) / matrix[k, k])

    return jax.lax.fori_loop(0, n, substitute, jnp.zeros_like(rhs))


def first_best(q: Float[Array, "S A"], margin: Float[Array, ""]) -> Int[Array, " S"]:
    """At every state, the first action whose Q is within ``margin`` of the best."""
    import jax.numpy as jnp

    return jnp.argmax(q >= jnp.max(q, axis=1, keepdims=True) - margin, axis=1)


def solve(
    next_state: Int[Array, "S A K"],
    prob: Float[Array, "S A K"],
    terminal: Bool[Array, " S"],
    discount: Float[Array, ""],
    reward: Float[Array, "S A"],
    allowed: Bool[Array, "S A"],
    values: Float[Array, " S"],
    margin: Float[Array, ""],
    sweeps: int,
) -> tuple[Float[Array, " S"], Float[Array, "S A"], Int[Array, " S"], Bool[Array, ""]]:
    """The best values and Q (−∞ at actions not allowed) under ``reward``, a deterministic
    policy attaining them, and whether policy iteration converged. It starts from the
    greedy policy of ``values`` after that many ``sweeps`` of value iteration from them
    (only a good first policy matters: policy iteration then needs one or two exact
    evaluations, and every world of a vmapped call waits for the slowest)."""
    import jax
    import jax.numpy as jnp

    live = ~terminal
    allowed = allowed | terminal[:, None]

    def values_of(policy: Array) -> Array:
        return evaluate_deterministic(next_state, prob, terminal, discount, policy, reward)

    def q_of(values: Array) -> Array:  # values are 0 at terminal states throughout
        q = q_values(next_state, prob, reward, terminal, discount, values)
        return jnp.where(allowed, q, -jnp.inf)

    def improvable(state: tuple) -> Array:
        _, values, q, steps = state
        return jnp.any(live & (jnp.max(q, axis=1) > values + margin)) & (steps < POLICY_STEPS)

    def improve(state: tuple) -> tuple:
        policy, values, q, steps = state
        better = live & (jnp.max(q, axis=1) > values + margin)
        policy = jnp.where(better, jnp.argmax(q, axis=1), policy)
        values = values_of(policy)
        return policy, values, q_of(values), steps + 1

    values = jax.lax.fori_loop(
        0, sweeps, lambda _, v: jnp.where(live, jnp.max(q_of(v), axis=1), 0.0), values
    )
    policy = jnp.argmax(q_of(values), axis=1)
    values = values_of(policy)
    state = (policy, values, q_of(values), 0)
    _, values, q, _ = jax.lax.while_loop(improvable, improve, state)
    converged = ~jnp.any(live & (jnp.max(q, axis=1) > values + margin))
    return values, q, first_best(q, margin), converged


def reach(
    next_state: Int[Array, "S A K"],
    prob: Float[Array, "S A K"],
    terminal: Bool[Array, " S"],
    sources: Bool[Array, " S"],
    allowed: Bool[Array, "S A"],
) -> Bool[Array, " S"]:
    """States reachable from ``sources`` using allowed actions (terminal states lead nowhere)."""
    import jax
    import jax.numpy as jnp

    n = next_state.shape[0]
    edge = (prob > 0) & allowed[:, :, None] & ~terminal[:, None, None]  # [S, A, K]
    step = jnp.einsum(
        "sak,sakt->st", edge.astype(jnp.float32), jax.nn.one_hot(next_state, n, dtype=jnp.float32)
    )
    adjacency = (step > 0).astype(jnp.float32)

    def grow(_: int, seen: Array) -> Array:
        return seen | (seen.astype(jnp.float32) @ adjacency > 0)

    seen = jax.lax.fori_loop(0, n - 1, grow, sources)
    return seen


def unavoidable(
    next_state: Int[Array, "S A K"],
    prob: Float[Array, "S A K"],
    terminal: Bool[Array, " S"],
    sources: Bool[Array, " S"],
    allowed: Bool[Array, "S A"],
) -> Bool[Array, " S"]:
    """States that every policy restricted to ``allowed`` reaches from ``sources`` (all of
    which count as reached): the complement, for each target, of the greatest fixed point
    of the states from which some allowed strategy stays away from it."""
    import jax
    import jax.numpy as jnp

    n = next_state.shape[0]
    positive = prob > 0
    target = jnp.eye(n, dtype=bool)

    def shrink(_: int, away: Array) -> Array:  # away[s, t]: from s, t can be avoided
        safe = jnp.all(away[next_state] | ~positive[..., None], axis=2)  # [S, A, T]
        ok = jnp.any(safe & allowed[:, :, None], axis=1)
        return jnp.where(terminal[:, None], True, ok) & ~target & away

    away = jax.lax.fori_loop(0, n + 1, shrink, ~target)
    return sources | jnp.any(sources[:, None] & ~away, axis=0)


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


def margin_of(reward: Float[Array, "S A"], discount: Float[Array, ""]) -> Float[Array, ""]:
    """The round-off margin of `alignlens.solve.optimize`: 10⁻¹² of the reward scale."""
    import jax.numpy as jnp

    return ROUND_OFF * jnp.maximum(1.0, jnp.max(jnp.abs(reward)) / (1.0 - discount))


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

    if float(np.max(discount)) >= 1.0:
        raise AlignlensError(
            "batched optima need discounting",
            field="discount",
            fix="use γ < 1, or the per-world solver (alignlens.solve.optimize)",
        )
    sign = 1.0 if sense == "max" else -1.0
    if allowed is None:
        allowed = np.ones(reward.shape, dtype=bool)
    values, q = _optima_program()(
        jnp.asarray(next_state),
        jnp.asarray(prob),
        jnp.asarray(terminal),
        jnp.asarray(sign * reward),
        jnp.asarray(discount, dtype=jnp.float64),
        jnp.asarray(allowed),
    )
    return sign * np.asarray(values), sign * np.asarray(q)


@functools.cache
def _optima_program():
    import jax
    import jax.numpy as jnp

    def one(next_state, prob, terminal, reward, discount, allowed):
        margin = margin_of(reward, discount)
        zero = jnp.zeros(reward.shape[0])
        values, q, _, _ = solve(
            next_state, prob, terminal, discount, reward, allowed, zero, margin, FIRST_SWEEPS
        )
        return values, q

    return jax.jit(jax.vmap(one))
