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
from alignlens.solve.backup import bellman_sweep
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
