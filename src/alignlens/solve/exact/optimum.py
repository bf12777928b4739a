"""Best and worst values of an objective, exactly: value iteration, then a policy-iteration polish.

Value iteration gets close with a proven bound (1% of the reward scale); policy
iteration from its greedy policy then finishes with exact evaluations, stopping when no
action improves any state by more than a round-off margin. What an exact evaluation
costs decides how the two share the work: a deterministic policy in a deterministic world
is evaluated in O(S) (`chain`), and fast-mixing graphs by a few Krylov steps, so policy
iteration does the rest; where evaluations need a sparse factorisation (slow-mixing,
stochastic grids), value iteration goes on to 10⁻⁶ of the scale from the first exact
values instead (a few hundred cheap sweeps), which leaves one or two factorisations
rather than ~17 (a 10⁵-state slippery grid: about 1 s instead of 7.9 s). A
policy-iteration step that changes at most `NEAR_ROWS` states is taken even there: its
evaluation is a few Krylov steps preconditioned by the factors of the policy before it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.errors import SolverError
from alignlens.solve.exact.backup import q_values
from alignlens.solve.exact.evaluation import NEAR_ROWS, SolverMemo, evaluate
from alignlens.solve.exact.value_iteration import value_iteration
from alignlens.world.model import Environment

Sense = Literal["max", "min"]
ROUND_OFF = 1e-12
CLOSENESS = 1e-2  # value iteration's tolerance before the polish, × the reward scale
FACTORISED_CLOSENESS = 1e-6  # ... when exact evaluations need factorisations
VALUE_SWEEPS = 2000
"""At most this many value-iteration sweeps before the polish: value iteration needs about
ln(1/tolerance)/(1 − γ) of them, unbounded as γ → 1, while policy iteration with exact
evaluations converges in a few steps whatever γ is."""


@dataclass(frozen=True, eq=False)
class Optimum:
    """The extreme value of an objective over policies (restricted to allowed actions).

    Attributes:
        values: V at every state (V* for "max", the worst value W for "min").
        q: Q at every state and action.
        policy: a deterministic policy attaining it (the first action among ties, up to
            round-off: `first_best`).
        value: the return from the start distribution.
        sense: "max" or "min".
    """

    values: Float[np.ndarray, " S"]
    q: Float[np.ndarray, "S A"]
    policy: Int[np.ndarray, " S"]
    value: float
    sense: Sense


def optimize(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    *,
    sense: Sense = "max",
    allowed: Bool[np.ndarray, "S A"] | None = None,
    initial: Float[np.ndarray, " S"] | None = None,
    guess: Float[np.ndarray, " S"] | None = None,
    memo: SolverMemo | None = None,
    max_policy_steps: int = 1000,
) -> Optimum:
    """The best (or worst) return of ``reward`` in ``env`` over policies using allowed actions,
    exact to round-off (and so are the Q values that optimal action sets are built on).
    ``initial`` values (e.g. the unrestricted solution), ``guess`` (values of a related
    problem, e.g. another objective's optimum on the same dynamics) and ``memo`` (see
    `evaluate`) only change how fast it gets there. In a deterministic world, policy
    iteration starts at once from the greedy policy of ``initial`` (evaluations cost O(S)
    there); restricted solves warm-started from their unrestricted solution then need one
    or two. Value iteration starts from ``guess``: an objective that differs from a solved
    one in a few places then needs a few sweeps instead of hundreds."""
    sign = 1.0 if sense == "max" else -1.0
    r = np.ascontiguousarray(sign * reward, dtype=np.float64)
    if allowed is not None:
        allowed = np.ascontiguousarray(allowed, dtype=np.bool_)
        allowed = allowed | env.terminal[:, None]
        if not allowed.any(axis=1).all():
            raise SolverError("a state has no allowed action", fix="allow one action per state")
    scale = _scale(env, r)
    memo = memo or SolverMemo()
    # Where exact evaluations cost a factorisation, policy-iteration steps that change many
    # states are replaced by value iteration to FACTORISED_CLOSENESS (see the module).
    deterministic = _deterministic(env)
    factorising = memo.direct and not deterministic
    # Value iteration only has to find a good first policy: the polish makes it exact.
    if initial is not None and deterministic:
        policy = np.argmax(_masked(q_values(env, r, sign * initial), allowed), axis=1)
        tightened = False
    else:
        start = initial if initial is not None else guess
        closeness = FACTORISED_CLOSENESS if factorising else CLOSENESS
        vi = value_iteration(
            env,
            r,
            allowed=allowed,
            tolerance=closeness * scale,
            initial=None if start is None else sign * start,
            max_sweeps=VALUE_SWEEPS,
        )
        policy = np.argmax(_masked(q_values(env, r, vi.values), allowed), axis=1)
        tightened = factorising  # value iteration already went to FACTORISED_CLOSENESS
    margin = ROUND_OFF * scale
    live = ~env.terminal
    for _ in range(max_policy_steps):
        values = evaluate(env, r, _one_hot(policy, env.n_actions), memo=memo).values
        q = _masked(q_values(env, r, values), allowed)
        best = q.max(axis=1)
        improve = live & (best > values + margin)
        if not improve.any():
            return _optimum(env, values, q, first_best(q, margin), sign, sense)
        many = np.count_nonzero(improve) > NEAR_ROWS  # the next evaluation would factorise
        if memo.direct and many and not tightened and not deterministic:
            tightened = True  # V_π is a lower bound: value iteration from it keeps the gain
            values = value_iteration(  # and gets close enough to need few more solves
                env,
                r,
                allowed=allowed,
                tolerance=FACTORISED_CLOSENESS * scale,
                initial=values,
                max_sweeps=VALUE_SWEEPS,
            ).values
            policy = np.argmax(_masked(q_values(env, r, values), allowed), axis=1)
        else:
            policy = np.where(improve, np.argmax(q, axis=1), policy)
    raise SolverError("policy iteration did not converge", fix="report this world as a bug")


def _optimum(
    env: Environment,
    values: np.ndarray,
    q: np.ndarray,
    policy: np.ndarray,
    sign: float,
    sense: Sense,
) -> Optimum:
    return Optimum(
        values=sign * values + 0.0,
        q=sign * q,
        policy=policy,
        value=float(sign * (env.start @ values)) + 0.0,
        sense=sense,
    )


def first_best(q: Float[np.ndarray, "S A"], margin: float) -> Int[np.ndarray, " S"]:
    """At every state, the first action whose Q is within ``margin`` of the best: the
    representative optimal policy, whichever optimal policy the iteration ended on."""
    return np.argmax(q >= q.max(axis=1, keepdims=True) - margin, axis=1)


def at_start(optimum: Optimum, env: Environment) -> Optimum:
    """The same solution read from another start distribution over the same dynamics."""
    return replace(optimum, value=float(env.start @ optimum.values) + 0.0)


def _deterministic(env: Environment) -> bool:
    """Whether every action leads to one successor (so deterministic policies form chains)."""
    return bool(np.all((env.prob == 0.0) | (env.prob == 1.0)))


def _scale(env: Environment, reward: np.ndarray) -> float:
    horizon = 1.0 / (1.0 - env.discount) if env.discount < 1 else float(env.depth or 1)
    return max(1.0, float(np.abs(reward).max(initial=0.0)) * horizon)


def _masked(q: np.ndarray, allowed: np.ndarray | None) -> np.ndarray:
    return q if allowed is None else np.where(allowed, q, -np.inf)


def _one_hot(policy: Int[np.ndarray, " S"], n_actions: int) -> Float[np.ndarray, "S A"]:
    out = np.zeros((policy.shape[0], n_actions))
    out[np.arange(policy.shape[0]), policy] = 1.0
    return out
