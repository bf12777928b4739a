"""The analysis of a learned policy: its returns and regrets beside the objective-level part.

Class extremes (V* and W) come from the objective-level `WorldAnalysis` of the same policy
class; the extremes of a declared mesa-objective come from ``class_extremes``, which the
caller supplies for the class at hand (tabular by default).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from jaxtyping import Float

from alignlens.analysis import (
    OBJECTIVES,
    Analysis,
    HackEvidence,
    MesaInfo,
    Returns,
    WorldAnalysis,
    all_tie,
    normalized_regret,
)
from alignlens.optimizers.result import Runs
from alignlens.policies.tabular import TabularPolicy
from alignlens.solve.cache import SolveCache
from alignlens.solve.outer_sample import sample_outer
from alignlens.world.model import ENVIRONMENTS, World

Extremes = Callable[[str, Float[np.ndarray, "S A"]], tuple[float, float]]


def tabular_extremes(world: World, cache: SolveCache | None = None) -> Extremes:
    """Best and worst return of any reward in an environment, over the tabular class."""
    cache = cache or SolveCache()

    def extremes(env: str, reward: np.ndarray) -> tuple[float, float]:
        return cache.extremes(world.environment(env), reward)  # type: ignore[arg-type]

    return extremes


def regrets_of(returns: Returns, objectives: WorldAnalysis) -> Returns:
    """The normalised regret of each return, against the class optimum and worst value."""
    return Returns(
        **{
            f"{e}_{o}": normalized_regret(
                returns.get(e, o), objectives.optimum.get(e, o), objectives.worst.get(e, o)
            )
            for e in ENVIRONMENTS
            for o in OBJECTIVES
        }
    )


def analyze_policy(
    world: World,
    policy: TabularPolicy,
    objectives: WorldAnalysis,
    *,
    optimizer: str = "given",
    class_extremes: Extremes | None = None,
    hack: HackEvidence | None = None,
    runs: Runs | None = None,
    cache: SolveCache | None = None,
) -> Analysis:
    """Returns, regrets, goal competences and mesa information of ``policy``, and the
    sampled estimate of outer alignment when independent ``runs`` are given."""
    cache = cache or SolveCache()
    extremes = class_extremes or tabular_extremes(world, cache)

    def policy_return(env: str, reward: np.ndarray) -> float:
        """J^env_reward of the policy, acting as it does in that environment."""
        e = world.environment(env)  # type: ignore[arg-type]
        return cache.evaluate(e, reward, policy.acting_in(env)).value

    values = {
        f"{e}_{o}": policy_return(e, world.objective(o))
        for e in ENVIRONMENTS
        for o in ("base", "intended")
    }
    returns = Returns(**values)
    regret = regrets_of(returns, objectives)
    competence = {
        name: 1.0
        - normalized_regret(
            policy_return("deploy", reward),
            objectives.goals[name].best,
            objectives.goals[name].worst,
        )
        for name, reward in world.goals.items()
    }
    mesa = None
    if policy.mesa is not None:
        best, worst = extremes("deploy", policy.mesa.reward)
        achieved = policy_return("deploy", policy.mesa.reward)
        mesa = MesaInfo(
            objective=policy.mesa.name,
            equals_base=bool(np.array_equal(policy.mesa.reward, world.base)),
            competence=1.0 - normalized_regret(achieved, best, worst),
            degenerate=all_tie(best, worst),
        )
    return Analysis(
        objectives=objectives,
        policy=policy.name,
        optimizer=optimizer,
        returns=returns,
        regret=regret,
        competence=competence,
        goal_is_base={name: bool(np.array_equal(r, world.base)) for name, r in world.goals.items()},
        mesa=mesa,
        hack=hack,
        outer_sample=None if runs is None else sample_outer(world, runs, objectives),
    )
