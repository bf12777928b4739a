"""Solutions shared across one analysis.

Values do not depend on where episodes start, so when the two environments share their
dynamics one solve serves training, deployment and every mixture of them. The cache keys
each solution by the identity of the arrays it was computed from (dynamics, reward, action
mask or policy) and keeps those arrays alive, so an identity is never reused.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import Bool, Float

from alignlens.solve.evaluation import Evaluation, evaluate
from alignlens.solve.optimum import Optimum, Sense, at_start, optimize
from alignlens.world.model import Environment


def _dynamics(env: Environment) -> tuple[int, int, int, float]:
    return (id(env.next_state), id(env.prob), id(env.terminal), env.discount)


class SolveCache:
    """Memoised `optimize` and `evaluate` for one analysis."""

    def __init__(self) -> None:
        self._solutions: dict[tuple, tuple[Any, tuple]] = {}
        self._hints: dict[tuple, dict[str, str]] = {}  # per dynamics, see `evaluate`

    def _hints_for(self, env: Environment) -> dict[str, str]:
        return self._hints.setdefault(_dynamics(env), {})

    def _get(self, key: tuple, keep: tuple, compute: Any) -> Any:
        if key not in self._solutions:
            self._solutions[key] = (compute(), keep)
        return self._solutions[key][0]

    def optimize(
        self,
        env: Environment,
        reward: Float[np.ndarray, "S A"],
        *,
        sense: Sense = "max",
        allowed: Bool[np.ndarray, "S A"] | None = None,
    ) -> Optimum:
        key = ("opt", _dynamics(env), id(reward), sense, id(allowed))
        keep = (env.next_state, env.prob, env.terminal, reward, allowed)
        free = self._solutions.get(("opt", _dynamics(env), id(reward), sense, id(None)))
        initial = None if allowed is None or free is None else free[0].values

        def solve() -> Optimum:  # warm-started from the unrestricted solution, if known
            return optimize(
                env,
                reward,
                sense=sense,
                allowed=allowed,
                initial=initial,
                hints=self._hints_for(env),
            )

        solved = self._get(key, keep, solve)
        return at_start(solved, env)

    def extremes(self, env: Environment, reward: Float[np.ndarray, "S A"]) -> tuple[float, float]:
        """Best and worst return of ``reward`` in ``env`` over the tabular class."""
        return (
            self.optimize(env, reward, sense="max").value,
            self.optimize(env, reward, sense="min").value,
        )

    def evaluate(
        self, env: Environment, reward: Float[np.ndarray, "S A"], policy: Float[np.ndarray, "S A"]
    ) -> Evaluation:
        key = ("eval", _dynamics(env), id(reward), id(policy))
        keep = (env.next_state, env.prob, env.terminal, reward, policy)
        done = self._get(
            key, keep, lambda: evaluate(env, reward, policy, hints=self._hints_for(env))
        )
        return Evaluation(done.values, float(env.start @ done.values), done.error_bound)
