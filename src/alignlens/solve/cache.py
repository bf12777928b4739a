"""Solutions shared across one analysis.

Values do not depend on where episodes start, so when the two environments share their
dynamics one solve serves training, deployment and every mixture of them. The cache keys
each solution by the identity of the arrays it was computed from (dynamics, reward, action
mask or policy) and keeps those arrays alive, so an identity is never reused. Rewards and
policies equal in content to one seen before are replaced by it first, so a goal that
coincides with the base objective (a common case) is solved once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from jaxtyping import Bool, Float

from alignlens.solve.exact.evaluation import Evaluation, SolverMemo, evaluate
from alignlens.solve.exact.optimum import Optimum, Sense, at_start, optimize
from alignlens.world.model import Environment


def _dynamics(env: Environment) -> tuple[int, int, int, float]:
    return (id(env.next_state), id(env.prob), id(env.terminal), env.discount)


class SolveCache:
    """Memoised `optimize` and `evaluate` for one analysis."""

    def __init__(self) -> None:
        self._solutions: dict[tuple, tuple[Any, tuple]] = {}
        self._memos: dict[tuple, SolverMemo] = {}  # per dynamics
        self._seen: list[np.ndarray] = []  # rewards and policies, one per distinct content

    def _canonical(self, array: np.ndarray) -> np.ndarray:
        """The first array seen with the same content (``array`` itself if it is new)."""
        for known in self._seen:
            if known is array or (
                known.shape == array.shape
                and known.dtype == array.dtype
                and np.array_equal(known, array)
            ):
                return known
        self._seen.append(array)
        return array

    def _memo_for(self, env: Environment) -> SolverMemo:
        return self._memos.setdefault(_dynamics(env), SolverMemo())

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
        initial: Float[np.ndarray, " S"] | None = None,
    ) -> Optimum:
        """`optimize`, warm-started from ``initial`` or else (with a mask) from the
        unrestricted solution when known, and from another objective's values otherwise."""
        reward = self._canonical(reward)
        key = ("opt", _dynamics(env), id(reward), sense, id(allowed))
        keep = (env.next_state, env.prob, env.terminal, reward, allowed)

        def solve() -> Optimum:  # the warm starts are looked up only when it is not cached
            start, guess = initial, None
            if allowed is None:
                guess = self._related(env, sense)
            elif start is None:
                free = self._solutions.get(("opt", _dynamics(env), id(reward), sense, id(None)))
                start = None if free is None else free[0].values
            return optimize(
                env,
                reward,
                sense=sense,
                allowed=allowed,
                initial=start,
                guess=guess,
                memo=self._memo_for(env),
            )

        solved = self._get(key, keep, solve)
        return at_start(solved, env)

    def known(
        self, env: Environment, reward: Float[np.ndarray, "S A"], *, sense: Sense = "max"
    ) -> Optimum | None:
        """The unrestricted solution, if it is already solved."""
        key = ("opt", _dynamics(env), id(self._canonical(reward)), sense, id(None))
        return self._solutions[key][0] if key in self._solutions else None

    def subset(self, env: Environment, states: Bool[np.ndarray, " S"]) -> Environment:
        """`Environment.subset`, built once per dynamics and subset of states (so that solves
        on it share their factorisations). Its start is the first caller's: environments
        with the same dynamics share it, so read values, not returns, from solves on it."""
        states = self._canonical(states)
        key = ("subset", _dynamics(env), id(states))
        keep = (env.next_state, env.prob, env.terminal, states)
        part = self._get(key, keep, lambda: env.subset(states))
        # Part of the same graph: where Krylov steps failed on the whole, skip them here.
        self._memo_for(part).direct |= self._memo_for(env).direct
        return part

    def _related(self, env: Environment, sense: Sense) -> np.ndarray | None:
        """The values of the latest unrestricted solve on the same dynamics and in the same
        sense (another objective's), where value iteration for a new objective starts."""
        wanted = ("opt", _dynamics(env))
        for key, (solved, _) in reversed(self._solutions.items()):
            if key[:2] == wanted and key[3:] == (sense, id(None)):
                return solved.values
        return None

    def extremes(self, env: Environment, reward: Float[np.ndarray, "S A"]) -> tuple[float, float]:
        """Best and worst return of ``reward`` in ``env`` over the tabular class."""
        return (
            self.optimize(env, reward, sense="max").value,
            self.optimize(env, reward, sense="min").value,
        )

    def evaluate(
        self, env: Environment, reward: Float[np.ndarray, "S A"], policy: Float[np.ndarray, "S A"]
    ) -> Evaluation:
        reward, policy = self._canonical(reward), self._canonical(policy)
        key = ("eval", _dynamics(env), id(reward), id(policy))
        keep = (env.next_state, env.prob, env.terminal, reward, policy)
        done = self._get(key, keep, lambda: evaluate(env, reward, policy, memo=self._memo_for(env)))
        return Evaluation(done.values, float(env.start @ done.values), done.error_bound)
