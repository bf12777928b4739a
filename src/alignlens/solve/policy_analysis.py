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
from alignlens.errors import PolicyError
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

    def competence_in(env: str, reward: np.ndarray, best: float, worst: float) -> float:
        return 1.0 - normalized_regret(policy_return(env, reward), best, worst)

    competence = {
        name: competence_in("deploy", r, objectives.goals[name].best, objectives.goals[name].worst)
        for name, r in world.goals.items()
    }
    train_competence = {
        name: competence_in("train", r, *extremes("train", r)) for name, r in world.goals.items()
    }
    mesa = None
    if policy.mesa is not None:
        best, worst = extremes("deploy", policy.mesa.reward)
        value = competence_in("deploy", policy.mesa.reward, best, worst)
        if policy.mesa.holder is None:
            check_mesa(policy.name, policy.mesa.name, 1.0 - value, objectives.tolerances.epsilon)
        mesa = MesaInfo(
            objective=policy.mesa.name,
            equals_base=bool(np.array_equal(policy.mesa.reward, world.base)),
            competence=value,
            degenerate=all_tie(best, worst),
            holder=policy.mesa.holder,
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
        train_competence=train_competence,
    )


MESA_ROUND_OFF = 1e-9
"""Planners are indifferent among actions tied to within round-off: the check allows it."""


def check_mesa(policy: str, objective: str, regret: float, epsilon: float) -> None:
    """A policy that declares a mesa-objective m must be optimal for m in deployment
    (normalised regret ≤ ε): a label that the behaviour does not bear out is an error."""
    if regret > max(epsilon, MESA_ROUND_OFF):
        raise PolicyError(
            f"policy {policy!r} declares the mesa-objective {objective!r} but is not optimal "
            f"for it in deployment (normalised regret {regret:.3g} > ε = {epsilon:g})",
            field="mesa",
            fix="declare the objective the policy pursues (or none), or name what within the "
            "policy holds it with MesaObjective(..., holder=...)",
        )
