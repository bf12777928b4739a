"""Opt(e, f): the return-optimal policies of the tabular class, described by action sets.

In the tabular class a policy is return-optimal iff it takes an optimal action at every
state it reaches (docs/model.md). An action is optimal at s when
``Q*(s, a) ≥ V*(s) − ε·(V* − W)/T``, with V* and W the best and worst returns from the
start distribution and T = 1/(1 − γ) the most discounted steps an episode can take (its
horizon, when undiscounted). Dividing by T gives every
member of the set normalised regret ≤ ε, as Opt's definition requires: a policy's
return falls short of V* by the discounted sum of its actions' gaps V*(s) − Q*(s, a)
(the performance-difference identity), so gaps of at most ε·(V* − W)/T lose at most
ε·(V* − W). Without T, the exhaustive optimiser's worst-deployment pick had regret
1.1–2.3·10⁻⁶ > ε in 4 of 10⁶ random worlds, so that a perfect optimiser was judged not
fully optimised. When every policy ties (V* − W tiny), every action is optimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from jaxtyping import Bool, Float

from alignlens.analysis import all_tie
from alignlens.solve.cache import SolveCache
from alignlens.solve.optimum import ROUND_OFF, Optimum
from alignlens.solve.reachability import reachable, unavoidable
from alignlens.tolerances import Tolerances
from alignlens.world.model import Environment


@dataclass(frozen=True, eq=False)
class OptimalSet:
    """Opt(env, f) at tolerance ε, with the state sets its bounds need.

    Attributes:
        env: the environment the set is optimal in.
        best, worst: V* and W of the objective in that environment.
        actions: ε-optimal actions [S, A] (every action at terminal states).
        reached: states reachable using optimal actions only.
        unavoidable: states every optimal policy reaches (a subset, on very large worlds).
        epsilon: the tolerance ε.
    """

    env: Environment
    best: Optimum
    worst: Optimum
    actions: Bool[np.ndarray, "S A"]
    reached: Bool[np.ndarray, " S"]
    unavoidable: Bool[np.ndarray, " S"]
    epsilon: float

    @cached_property
    def witness_mask(self) -> Bool[np.ndarray, "S A"]:
        """Optimal actions wherever optimal actions can lead: a subset of Opt."""
        return np.where(self.reached[:, None], self.actions, True)

    @cached_property
    def sound_mask(self) -> Bool[np.ndarray, "S A"]:
        """Optimal actions where no optimal policy can avoid going: a superset of Opt."""
        return np.where(self.unavoidable[:, None], self.actions, True)


def episode_steps(env: Environment) -> float:
    """T: the most discounted steps an episode can take, 1/(1 − γ) (the horizon when
    undiscounted)."""
    return 1.0 / (1.0 - env.discount) if env.discount < 1 else float(env.depth or 1)


def optimal_actions(
    best: Optimum,
    floor: float,
    terminal: Bool[np.ndarray, " S"],
    epsilon: float,
    steps: float,
) -> Bool[np.ndarray, "S A"]:
    """The ε-optimal actions, from the best solution and the normaliser's floor (the return
    of regret 1; the class worst W by default): a gap to V*(s) of at most
    ε·(V* − floor)/``steps`` (see the module), or of round-off."""
    if all_tie(best.value, floor):
        return np.ones(best.q.shape, dtype=bool)
    spread = best.value - floor
    scale = max(1.0, float(np.abs(best.values).max(initial=0.0)))
    tolerance = max(epsilon * spread / steps, ROUND_OFF * scale)
    return (best.q >= best.values[:, None] - tolerance) | terminal[:, None]


def optimal_set(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    epsilon: float,
    *,
    cache: SolveCache | None = None,
    tolerances: Tolerances | None = None,
) -> OptimalSet:
    """Opt(env, reward) at tolerance ε, regrets normalised as ``tolerances`` say (by the
    class's range V* − W unless they name another normaliser)."""
    cache = cache or SolveCache()
    best = cache.optimize(env, reward, sense="max")
    worst = cache.optimize(env, reward, sense="min")
    floor = worst.value
    if tolerances is not None and tolerances.normaliser != "range":
        uniform = np.full(reward.shape, 1.0 / reward.shape[1])
        random = cache.evaluate(env, reward, uniform).value
        floor = tolerances.floor(best.value, worst.value, random)
    actions = optimal_actions(best, floor, env.terminal, epsilon, episode_steps(env))
    return OptimalSet(
        env=env,
        best=best,
        worst=worst,
        actions=actions,
        reached=reachable(env, actions),
        unavoidable=unavoidable(env, actions),
        epsilon=epsilon,
    )
