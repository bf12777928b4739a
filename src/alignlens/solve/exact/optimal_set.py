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

Gaps below round-off (`ROUND_OFF` × the largest |V*|) cannot be told from ties, and a gap
that small may still cost L·gap/(V* − W) of normalised regret, L the longest discounted
lifetime of a member (at most T). Where some action's gap lies between ε's bound and
round-off, and that cost can exceed ε (values far larger than their spread, a reward
offset of 1e9), the set is not resolved in 64-bit floating point and is refused
(`unresolved`), never silently widened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from jaxtyping import Bool, Float

from alignlens.analysis import all_tie
from alignlens.errors import SolverError
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.optimum import ROUND_OFF, Optimum, optimize
from alignlens.solve.exact.reachability import reachable, unavoidable
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


RESOLVED = 1e-9
"""The normalised regret that round-off may admit into Opt when ε is smaller (ε = 0 means
optimal up to round-off)."""
EPSILON_FIX = 1e-2  # the largest ε the error suggests instead (beyond, the verdicts would blur)


def optimal_actions(
    best: Optimum, floor: float, env: Environment, epsilon: float
) -> Bool[np.ndarray, "S A"]:
    """The ε-optimal actions, from the best solution and the normaliser's floor (the return
    of regret 1; the class worst W by default): a gap to V*(s) of at most ε·(V* − floor)/T
    (see the module), or of round-off. Raises `SolverError` where round-off alone would
    admit regrets above ε (and above `RESOLVED`)."""
    if all_tie(best.value, floor):
        return np.ones(best.q.shape, dtype=bool)
    spread = best.value - floor
    round_off = ROUND_OFF * max(1.0, float(np.abs(best.values).max(initial=0.0)))
    strict = epsilon * spread / episode_steps(env)
    gap = best.values[:, None] - best.q
    actions = (gap <= max(strict, round_off)) | env.terminal[:, None]
    # Only actions whose gap lies between ε's bound and round-off, where a member can go,
    # are in doubt; a member using them loses at most round-off at each step of its
    # discounted lifetime (the performance-difference identity): at most T, or exactly
    # the longest lifetime.
    reached = reachable(env, actions)
    doubtful = actions & (reached & ~env.terminal)[:, None] & (gap > strict)
    if round_off > strict and doubtful.any():
        admitted = round_off * episode_steps(env) / spread
        if admitted > max(epsilon, RESOLVED):
            admitted = round_off * longest_lifetime(env, actions) / spread
            if admitted > max(epsilon, RESOLVED):
                raise unresolved(env, epsilon, admitted, best.values)
    return actions


def longest_lifetime(env: Environment, actions: Bool[np.ndarray, "S A"]) -> float:
    """The longest expected discounted lifetime Σ_t γ^t P(not ended by t) from the start of
    a policy using only ``actions``."""
    steps = np.where(env.terminal, 0.0, 1.0)[:, None] * np.ones(actions.shape)
    return optimize(env, steps, allowed=actions).value


def unresolved(
    env: Environment, epsilon: float, admitted: float, values: Float[np.ndarray, " S"]
) -> SolverError:
    """The error for an optimal set that 64-bit round-off cannot resolve at ε."""
    largest = float(np.abs(values).max(initial=0.0))
    steps = f"{episode_steps(env):.3g}"
    if env.discount < 1:
        field, cause = "discount", f"at discount {env.discount!r} an episode counts {steps} steps"
        fix = "use a discount further from 1"
    else:
        field, cause = "horizon", f"an episode lasts {steps} steps"
        fix = "use a shorter horizon"
    if admitted < EPSILON_FIX:
        fix += f", or a larger `epsilon` (at least {round_up(admitted):g})"
    return SolverError(
        f"the optimal policies cannot be told apart in 64-bit floating point: {cause} and "
        f"values reach {largest:.3g}, so round-off hides differences in return that cost up "
        f"to {admitted:.3g} of normalised regret, more than ε = {epsilon:g}",
        field=field,
        fix=fix,
    )


def round_up(x: float) -> float:
    """``x`` rounded up to two significant digits."""
    unit = 10.0 ** (math.floor(math.log10(x)) - 1)
    return math.ceil(x / unit) * unit


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
    actions = optimal_actions(best, floor, env, epsilon)
    return OptimalSet(
        env=env,
        best=best,
        worst=worst,
        actions=actions,
        reached=reachable(env, actions),
        unavoidable=unavoidable(env, actions),
        epsilon=epsilon,
    )
