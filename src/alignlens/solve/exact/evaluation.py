"""Exact policy evaluation: one sparse linear solve of (I − γ P_π) V = r_π.

Terminal states have V = 0 and drop out of the system. Small systems are solved
directly (SuperLU). Large ones try a few BiCGSTAB steps first, certified by the residual:
for γ < 1, ‖V − V_π‖∞ ≤ ‖residual‖∞ / (1 − γ); with a horizon, ≤ ‖residual‖∞ · depth
(the expected number of steps). Random sparse graphs fill in catastrophically under LU
(a 10,000-state system took 20 s here) but mix fast, so Krylov steps converge; grids
and corridors mix slowly (BiCGSTAB stalls or breaks down) but factorise cheaply, so the
direct solve takes over when the Krylov steps cannot certify their answer. A
deterministic policy in a deterministic world needs no solve at all: every state has one
successor, and `chain_values` walks the graph once. Nor does a policy whose graph has no
cycle but self-loops (it only moves forward): `acyclic_values` walks it once.

An analysis evaluates many policies that differ from one another in a few states (policy
iteration's steps, a restricted solve next to the free one, a planner that splits ties of
an optimal policy). A policy whose rows differ from an already factorised one in at most
`NEAR_ROWS` states is solved by BiCGSTAB preconditioned with those factors: the
preconditioned system is the identity plus a low-rank term, so a few steps certify it
(measured once, by hand, on the 10⁵-state slippery grid of `benchmarks/bench_diagnose.py`:
10 changed rows, 2 steps and 0.06 s; 100 rows, 11 steps and 0.25 s; one factorisation,
0.35 s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
from jaxtyping import Float

from alignlens.errors import SolverError
from alignlens.solve.exact.chain import acyclic_values, chain_values
from alignlens.world.model import Environment

DIRECT_LIMIT = 400
DENSE_LIMIT = 192  # live states up to which one dense solve is cheapest (and needs no Numba)
KEPT_FACTORS = 4  # factorised systems a memo keeps (the most recently used)
CERTIFIED = 1e-10  # relative error the iterative solve must certify
KRYLOV_STEPS = 60
NEAR_ROWS = 64  # changed rows up to which a kept factorisation preconditions the solve
NEAR_STEPS = 30  # preconditioned steps before factorising anew
LONG_EPISODE = 1e5  # discounted steps beyond which a failed certificate blames the discount


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Values of a policy at every state, its return from the start, and an error bound."""

    values: Float[np.ndarray, " S"]
    value: float
    error_bound: float


@dataclass(eq=False)
class SolverMemo:
    """What the solves of one analysis over the same dynamics learn about them; it changes
    how fast they run, never what they return within the certified bound.

    Attributes:
        direct: Krylov steps failed to certify here once; later solves factorise at once.
        factors: (policy, system, LU factors of I − γP_π over live states) of the most
            recently used factorised policies, oldest first: a policy evaluated under
            several rewards is factorised once, and a policy near one of them is
            preconditioned by its factors.
    """

    direct: bool = False
    factors: list[tuple[np.ndarray, sp.csc_matrix, Any]] = field(default_factory=list)

    def factor(self, policy: np.ndarray) -> tuple[sp.csc_matrix, Any] | None:
        """The kept system and factors of a policy equal in content to ``policy``."""
        for i, (known, system, lu) in enumerate(self.factors):
            if known is policy or (known.shape == policy.shape and np.array_equal(known, policy)):
                self.factors.append(self.factors.pop(i))
                return system, lu
        return None

    def nearest(self, policy: np.ndarray) -> Any | None:
        """The factors of the kept policy that differs from ``policy`` in the fewest rows,
        if those are at most `NEAR_ROWS`."""
        best, fewest = None, NEAR_ROWS + 1
        for i, (known, _, _) in enumerate(self.factors):
            if known.shape == policy.shape:
                changed = int(np.count_nonzero(np.any(known != policy, axis=1)))
                if changed < fewest:
                    best, fewest = i, changed
        if best is None:
            return None
        self.factors.append(self.factors.pop(best))
        return self.factors[-1][2]

    def keep(self, policy: np.ndarray, system: sp.csc_matrix, lu: Any) -> None:
        self.factors.append((policy.copy(), system, lu))  # a copy: callers may reuse theirs
        del self.factors[:-KEPT_FACTORS]


def transition_matrix(env: Environment, policy: Float[np.ndarray, "S A"]) -> sp.csr_matrix:
    """P_π as a sparse [S, S] matrix; rows of terminal states are empty."""
    s, a, k = env.next_state.shape
    weight = policy[:, :, None] * env.prob
    weight[env.terminal] = 0.0
    rows = np.broadcast_to(np.arange(s)[:, None, None], (s, a, k)).ravel()
    matrix = sp.csr_matrix((weight.ravel(), (rows, env.next_state.ravel())), shape=(s, s))
    matrix.eliminate_zeros()
    return matrix


def evaluate(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    policy: Float[np.ndarray, "S A"],
    *,
    memo: SolverMemo | None = None,
) -> Evaluation:
    """V_π of a stochastic policy (rows of action probabilities) under ``reward``.

    ``memo`` is shared by the solves of one analysis over the same dynamics (see
    `SolverMemo`)."""
    live = np.flatnonzero(~env.terminal)
    values = np.zeros(env.n_states)
    if live.size == 0:
        return Evaluation(values, 0.0, 0.0)
    r = np.einsum("sa,sa->s", policy, reward)[live]
    if live.size <= DENSE_LIMIT:
        values[live], bound = _dense(env, policy, live, r)
        return Evaluation(values, float(env.start @ values), bound)
    chain = _chain(env, reward, policy)
    if chain is not None:
        return chain
    memo = memo or SolverMemo()
    known = memo.factor(policy)
    if known is not None:
        values[live], bound = _certified(*known, r, env)
        return Evaluation(values, float(env.start @ values), bound)
    transitions = transition_matrix(env, policy)
    acyclic = _acyclic(env, transitions, live, r)
    if acyclic is not None:
        return acyclic
    p = transitions[live][:, live]
    system = (sp.identity(live.size, format="csr") - env.discount * p).tocsc()
    values[live], bound = _solve(system, r, env, memo, policy)
    return Evaluation(values, float(env.start @ values), bound)


def _chain(
    env: Environment, reward: Float[np.ndarray, "S A"], policy: Float[np.ndarray, "S A"]
) -> Evaluation | None:
    """The O(S) evaluation when the policy and the dynamics leave one successor per state."""
    states = np.arange(env.n_states)
    live = ~env.terminal
    action = np.argmax(policy, axis=1)
    if not np.all(policy[states, action][live] == 1.0):
        return None
    chosen = env.prob[states, action]
    slot = np.argmax(chosen, axis=1)
    if not np.all(chosen[states, slot][live] == 1.0):
        return None
    successor = np.where(env.terminal, -1, env.next_state[states, action, slot])
    r = np.where(env.terminal, 0.0, reward[states, action])
    values = chain_values(successor, r, env.discount)
    if values is None:
        return None
    following = np.where(successor >= 0, values[successor], 0.0)
    bound = float(np.abs(r + env.discount * following - values).max()) * _inverse_norm(env)
    return Evaluation(values, float(env.start @ values), bound)


def _acyclic(
    env: Environment, transitions: sp.csr_matrix, live: np.ndarray, r: np.ndarray
) -> Evaluation | None:
    """The one-walk evaluation when P_π has no cycle but self-loops (`acyclic_values`)."""
    reward = np.zeros(env.n_states)
    reward[live] = r
    values = acyclic_values(transitions, reward, env.discount)
    if values is None:
        return None
    residual = float(np.abs(reward + env.discount * (transitions @ values) - values).max())
    return Evaluation(values, float(env.start @ values), residual * _inverse_norm(env))


def _dense(
    env: Environment, policy: Float[np.ndarray, "S A"], live: np.ndarray, r: np.ndarray
) -> tuple[np.ndarray, float]:
    """A small world's evaluation by one dense solve, certified like the sparse one."""
    s, a, k = env.next_state.shape
    weight = policy[:, :, None] * env.prob
    p = np.zeros((s, s))
    np.add.at(p, (np.broadcast_to(np.arange(s)[:, None, None], (s, a, k)), env.next_state), weight)
    system = np.eye(live.size) - env.discount * p[np.ix_(live, live)]
    x = np.linalg.solve(system, r)
    return x, _certified_bound(x, float(np.abs(r - system @ x).max()), r, env)


def _inverse_norm(env: Environment) -> float:
    """A bound on ‖(I − γP_π)⁻¹‖∞: 1/(1 − γ), or the horizon when γ = 1."""
    return 1.0 / (1.0 - env.discount) if env.discount < 1 else float(env.depth or np.inf)


def _solve(
    system: sp.csc_matrix, rhs: np.ndarray, env: Environment, memo: SolverMemo, policy: np.ndarray
) -> tuple[np.ndarray, float]:
    near = memo.nearest(policy) if system.shape[0] > DIRECT_LIMIT else None
    if near is not None:
        operator = sla.LinearOperator(system.shape, near.solve)
        x, _ = sla.bicgstab(system, rhs, M=operator, rtol=1e-14, atol=0.0, maxiter=NEAR_STEPS)
        found = _krylov_certified(system, rhs, env, x)
        if found is not None:
            return found
    elif system.shape[0] > DIRECT_LIMIT and not memo.direct:
        # Fast-mixing (random-like) graphs: a few Krylov steps suffice. Slow-mixing ones
        # (long corridors, grids) stall or break down here, but factorise with little fill.
        x, _ = sla.bicgstab(system, rhs, rtol=1e-14, atol=0.0, maxiter=KRYLOV_STEPS)
        found = _krylov_certified(system, rhs, env, x)
        if found is not None:
            return found
        memo.direct = True
    lu = sla.splu(system)
    memo.keep(policy, system, lu)
    return _certified(system, lu, rhs, env)


def _krylov_certified(
    system: sp.csc_matrix, rhs: np.ndarray, env: Environment, x: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """A Krylov solve's answer and error bound (from its residual), if it certifies (the
    residual decides, not the solver's own convergence flag)."""
    if not np.all(np.isfinite(x)):
        return None
    bound = float(np.abs(rhs - system @ x).max()) * _inverse_norm(env)
    return (x, bound) if bound <= CERTIFIED * _scale(rhs, env) else None


def _certified(
    system: sp.csc_matrix, lu: Any, rhs: np.ndarray, env: Environment
) -> tuple[np.ndarray, float]:
    """The direct solve's answer, with its error bound, or a clear error if it is not exact."""
    x = lu.solve(rhs)
    return x, _certified_bound(x, float(np.abs(rhs - system @ x).max()), rhs, env)


def _certified_bound(x: np.ndarray, residual: float, rhs: np.ndarray, env: Environment) -> float:
    """The error bound of a direct solve from its residual, or a clear error if the answer
    is not exact."""
    bound = residual * _inverse_norm(env)
    if not np.all(np.isfinite(x)) or bound > CERTIFIED * _scale(rhs, env):
        if env.discount < 1 and _inverse_norm(env) > LONG_EPISODE:
            raise SolverError(
                f"policy evaluation could not be certified (error bound {bound:.3g}): at "
                f"discount {env.discount!r} an episode counts {_inverse_norm(env):.3g} steps, "
                "and round-off grows with them",
                field="discount",
                fix="use a discount further from 1",
            )
        raise SolverError(
            f"policy evaluation could not be certified (error bound {bound:.3g})",
            fix="check the world for numerically extreme rewards or probabilities",
        )
    return bound


def _scale(rhs: np.ndarray, env: Environment) -> float:
    return max(1.0, float(np.abs(rhs).max(initial=0.0)) * _inverse_norm(env))


def occupancy(env: Environment, policy: Float[np.ndarray, "S A"]) -> Float[np.ndarray, " S"]:
    """Discounted state occupancy d(s) = Σ_t γ^t P(s_t = s) from the start distribution
    (terminal states get 0): the solution of (I − γ P_π)ᵀ d = μ."""
    live = np.flatnonzero(~env.terminal)
    out = np.zeros(env.n_states)
    if live.size == 0:
        return out
    p = transition_matrix(env, policy)[live][:, live]
    system = (sp.identity(live.size, format="csr") - env.discount * p).T.tocsc()
    out[live] = sla.spsolve(system, env.start[live])
    return out


OCCUPANCY_BLOCK = 2**22  # matrix entries per batched dense solve


def occupancies(env: Environment, policies: Float[np.ndarray, "n S A"]) -> Float[np.ndarray, "n S"]:
    """`occupancy` of many policies: batched dense solves on small worlds (in blocks of
    policies), one sparse solve each on larger ones."""
    live = np.flatnonzero(~env.terminal)
    n = policies.shape[0]
    out = np.zeros((n, env.n_states))
    if live.size == 0 or live.size > DENSE_LIMIT:
        for i in range(n):
            out[i] = occupancy(env, policies[i])
        return out
    s, a, _ = env.next_state.shape
    moves = np.zeros((s, a, s))  # moves[s, a, s'] = P(s' | s, a)
    np.add.at(moves, (*np.indices(env.next_state.shape)[:2], env.next_state), env.prob)
    moves = moves[live][:, :, live]
    identity = np.eye(live.size)
    block = max(1, OCCUPANCY_BLOCK // live.size**2)
    for first in range(0, n, block):
        chunk = policies[first : first + block][:, live]
        p = np.einsum("nsa,sat->nst", chunk, moves)
        system = np.swapaxes(identity - env.discount * p, 1, 2)
        rhs = np.broadcast_to(env.start[live], (chunk.shape[0], live.size))[..., None]
        out[first : first + chunk.shape[0], live] = np.linalg.solve(system, rhs)[..., 0]
    return out
