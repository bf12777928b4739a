"""Value iteration with a proven stopping bound.

After sweep k, V* lies within ``[V_k + c·min Δ, V_k + c·max Δ]`` with Δ = V_k − V_{k−1}
and c = γ/(1−γ) (MacQueen's bounds), so the sup-norm error of V_k is at most
``c·max|Δ|``. The default rule stops when that bound is below the tolerance; the
``span`` rule is pymdptoolbox's (span Δ < ε(1−γ)/γ, an ε-optimal greedy policy) and is
there so that benchmarks compare like with like. With a finite horizon the world is
acyclic and `depth` sweeps are exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from jaxtyping import Bool, Float

from alignlens.errors import SolverError
from alignlens.solve.exact.backup import SMALL, bellman_sweep
from alignlens.world.model import Environment

Stopping = Literal["bound", "span"]


@dataclass(frozen=True, eq=False)
class ValueIterationResult:
    """Values after the last sweep, the number of sweeps, and a proven sup-norm error bound."""

    values: Float[np.ndarray, " S"]
    sweeps: int
    error_bound: float


def value_iteration(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    *,
    allowed: Bool[np.ndarray, "S A"] | None = None,
    tolerance: float = 1e-8,
    stopping: Stopping = "bound",
    max_sweeps: int = 1_000_000,
    initial: Float[np.ndarray, " S"] | None = None,
) -> ValueIterationResult:
    """Optimal values (max over allowed actions) of ``reward`` in ``env``, to ``tolerance``."""
    gamma = env.discount
    if gamma >= 1.0 and env.depth is None:
        raise SolverError(
            "discount 1 without a horizon has no finite value bound",
            field="discount",
            fix="give the world a horizon or a discount below 1",
        )
    reward = np.ascontiguousarray(reward, dtype=np.float64)
    if env.depth is not None and env.next_state.size > SMALL and _ordered(env):
        return _backward(env, reward, allowed)
    values = np.zeros(env.n_states) if initial is None else np.array(initial, dtype=np.float64)
    out = np.empty_like(values)
    factor = gamma / (1.0 - gamma) if gamma < 1.0 else np.inf
    limit = max_sweeps if env.depth is None else min(max_sweeps, env.depth)
    bound = np.inf
    for sweep in range(1, limit + 1):
        hi, lo = bellman_sweep(env, reward, values, out, allowed)
        values, out = out, values
        bound = factor * max(abs(hi), abs(lo))
        done = bound <= tolerance if stopping == "bound" else (hi - lo) < tolerance / factor
        if done:
            return ValueIterationResult(values, sweep, bound)
    if env.depth is not None and limit == env.depth:
        return ValueIterationResult(values, limit, 0.0)
    return ValueIterationResult(values, limit, bound)


def _ordered(env: Environment) -> bool:
    """Whether every successor of a live state has a larger index (a time-augmented world:
    state (s, t) has index t·S + s), so that one backward pass is backward induction."""
    index = np.arange(env.n_states)[:, None, None]
    later = (env.next_state > index) | (env.prob == 0.0) | env.terminal[:, None, None]
    return bool(later.all())


def _backward(
    env: Environment, reward: np.ndarray, allowed: Bool[np.ndarray, "S A"] | None
) -> ValueIterationResult:
    """Exact optimal values of a finite-horizon world by one backward pass: the work of
    one sweep instead of a sweep per step."""
    from alignlens.solve.exact import loops  # Numba, as for the large worlds' sweeps

    values = np.zeros(env.n_states)
    mask = np.ones((1, 1), dtype=np.bool_) if allowed is None else allowed
    loops.backward_sweep(
        env.next_state,
        env.prob,
        reward,
        env.discount,
        env.terminal,
        mask,
        allowed is not None,
        values,
    )
    return ValueIterationResult(values, 1, 0.0)
