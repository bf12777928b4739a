"""The analysis of a learned policy: its returns and regrets beside the objective-level part.

Class extremes (V* and W) come from the objective-level `WorldAnalysis` of the same policy
class; the extremes of a declared mesa-objective come from ``class_extremes``, which the
caller supplies for the class at hand (tabular by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from jaxtyping import Float

from alignlens.analysis import (
    OBJECTIVES,
    Analysis,
    GoalRange,
    HackEvidence,
    MesaInfo,
    Returns,
    WorldAnalysis,
    all_tie,
)
from alignlens.errors import PolicyError
from alignlens.learned import Runs
from alignlens.policies.tabular import TabularPolicy
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.outer_sample import sample_outer
from alignlens.world.model import ENVIRONMENTS, World

Extremes = Callable[[str, Float[np.ndarray, "S A"]], tuple[float, float]]


def tabular_extremes(world: World, cache: SolveCache | None = None) -> Extremes:
    """Best and worst return of any reward in an environment, over the tabular class."""
    cache = cache or SolveCache()

    def extremes(env: str, reward: np.ndarray) -> tuple[float, float]:
        return cache.extremes(world.environment(env), reward)  # type: ignore[arg-type]

    return extremes


def regrets_of(returns: Returns, objectives: WorldAnalysis) -> Returns:
    """The normalised regret of each return, as the objective-level analysis normalises it."""
    return Returns(
        **{
            f"{e}_{o}": objectives.regret(e, o, returns.get(e, o))
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

    tol = objectives.tolerances

    def competence_in(env: str, reward: np.ndarray, goal: GoalRange) -> float:
        return 1.0 - goal.regret(policy_return(env, reward), tol)

    def goal_range(env: str, reward: np.ndarray) -> GoalRange:
        best, worst = extremes(env, reward)
        return GoalRange(best, worst, random_return(env, reward))

    def random_return(env: str, reward: np.ndarray) -> float | None:
        if tol.normaliser != "random":
            return None
        uniform = np.full(reward.shape, 1.0 / reward.shape[1])
        return cache.evaluate(world.environment(env), reward, uniform).value  # type: ignore[arg-type]

    competence = {
        name: competence_in("deploy", r, objectives.goals[name]) for name, r in world.goals.items()
    }
    train_competence = {
        name: competence_in("train", r, objectives.train_goals.get(name) or goal_range("train", r))
        for name, r in world.goals.items()
    }
    mesa = None
    if policy.mesa is not None:
        mesa_range = goal_range("deploy", policy.mesa.reward)
        best, worst = mesa_range.best, mesa_range.worst
        value = competence_in("deploy", policy.mesa.reward, mesa_range)
        if policy.mesa.holder is None:
            check_mesa(policy.name, policy.mesa.name, 1.0 - value, objectives.tolerances.epsilon)
        mesa = MesaInfo(
            objective=policy.mesa.name,
            equals_base=bool(np.array_equal(policy.mesa.reward, world.base)),
            competence=value,
            degenerate=all_tie(best, worst),
            holder=policy.mesa.holder,
        )
    if hack is not None and hack.counterfactual_return is not None:
        regret_off = objectives.regret("train", "base", hack.counterfactual_return)
        hack = dataclasses.replace(hack, counterfactual_regret=regret_off)
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
