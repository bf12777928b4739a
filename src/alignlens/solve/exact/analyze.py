"""The objective-level analysis of a world over the tabular class (`WorldAnalysis`).

Composed from the primitives only: optimal sets, ranges of returns over them, and the
mixture environment. Regret ranges come from return ranges, since the normalised regret
(V* − J)/(V* − W) falls as J rises.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from alignlens.analysis import (
    GoalRange,
    Range,
    Returns,
    ShareProfile,
    WorldAnalysis,
    normalized_regret,
)
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.enumerated import uniform_returns
from alignlens.solve.exact.extremes import return_range
from alignlens.solve.exact.mixture import mixture, tabular_share_set
from alignlens.solve.exact.optimal_set import OptimalSet, optimal_set
from alignlens.tolerances import Tolerances
from alignlens.world.model import Environment, World

INTERIOR_SHARE = 0.5  # any λ in (0, 1) gives the same tabular optimal set


def analyze_world(
    world: World, tolerances: Tolerances | None = None, *, cache: SolveCache | None = None
) -> WorldAnalysis:
    """Class optima, worst and random returns, and the regret ranges over each optimal set."""
    tol = tolerances or Tolerances(deploy_share=world.deploy_share)
    cache = cache or SolveCache()
    eps, share = tol.epsilon, tol.deploy_share
    train, deploy = world.train, world.deploy
    opt_train = optimal_set(train, world.base, eps, cache=cache, tolerances=tol)
    opt_deploy = optimal_set(deploy, world.base, eps, cache=cache, tolerances=tol)
    intended_train = cache.extremes(train, world.intended)
    intended_deploy = cache.extremes(deploy, world.intended)
    optimum = Returns(
        opt_train.best.value, intended_train[0], opt_deploy.best.value, intended_deploy[0]
    )
    worst = Returns(
        opt_train.worst.value, intended_train[1], opt_deploy.worst.value, intended_deploy[1]
    )

    def over(opt: OptimalSet, env: Environment, objective: str) -> Range:
        return return_range(opt, env, world.objective(objective), cache=cache)

    returns = {
        ("train", "deploy", "intended"): over(opt_train, deploy, "intended"),
        ("train", "deploy", "base"): over(opt_train, deploy, "base"),
        ("train", "train", "intended"): over(opt_train, train, "intended"),
        ("deploy", "deploy", "intended"): over(opt_deploy, deploy, "intended"),
    }
    if world.shared_dynamics:
        inside = interior_share(share)
        mixed = mixture(train, deploy, inside)
        opt_inside = optimal_set(mixed, world.base, eps, cache=cache, tolerances=tol)
        returns["mixture", "deploy", "intended"] = over(opt_inside, deploy, "intended")
    return world_analysis(
        world.name,
        tol,
        optimum,
        worst,
        uniform_returns(world, cache),
        returns,
        goals={name: goal_range(deploy, r, cache) for name, r in world.goals.items()},
        shared_dynamics=world.shared_dynamics,
        train_goals={name: goal_range(train, r, cache) for name, r in world.goals.items()},
    )


def goal_range(env: Environment, reward: np.ndarray, cache: SolveCache) -> GoalRange:
    """Best, worst and uniformly random return of a goal over the tabular class."""
    uniform = np.full(reward.shape, 1.0 / reward.shape[1])
    return GoalRange(*cache.extremes(env, reward), cache.evaluate(env, reward, uniform).value)


def interior_share(share: float) -> float:
    """The λ at which Opt(λ, R) is computed for every λ in (0, 1): λ itself when inside."""
    return INTERIOR_SHARE if share in (0.0, 1.0) else share


def world_analysis(
    name: str,
    tol: Tolerances,
    optimum: Returns,
    worst: Returns,
    random: Returns,
    returns: Mapping[tuple[str, str, str], Range],
    *,
    goals: Mapping[str, GoalRange],
    shared_dynamics: bool,
    train_goals: Mapping[str, GoalRange] | None = None,
) -> WorldAnalysis:
    """The `WorldAnalysis` of the tabular class from its extremes and the range of returns
    over each optimal set, keyed (optimal set, environment, objective): Opt(train, R) in
    deployment (intended and base) and in training (intended), Opt(deploy, R) in
    deployment, and with shared dynamics Opt(λ, R) for λ inside (0, 1)."""
    share = tol.deploy_share

    def regret(key: tuple[str, str, str]) -> Range:
        _, env, objective = key
        best, floor = optimum.get(env, objective), worst.get(env, objective)
        if tol.normaliser != "range":
            floor = tol.floor(best, floor, random.get(env, objective))
        return regret_range(returns[key], best, floor)

    deploy_intended = {
        "train": regret(("train", "deploy", "intended")),
        "deploy": regret(("deploy", "deploy", "intended")),
    }
    if shared_dynamics:
        inside_range = regret(("mixture", "deploy", "intended"))
        mixture_range = {0.0: deploy_intended["train"], 1.0: deploy_intended["deploy"]}.get(
            share, inside_range
        )
    else:
        inside_range = Range(0.0, 1.0, (0.0, 1.0), (0.0, 1.0))
        mixture_range = (
            inside_range
            if 0.0 < share < 1.0
            else deploy_intended["train" if share == 0.0 else "deploy"]
        )

    verdicts = [
        aligned_everywhere(r, tol.tau)
        for r in (deploy_intended["train"], inside_range, deploy_intended["deploy"])
    ]
    return WorldAnalysis(
        world=name,
        policy_class="tabular",
        tolerances=tol,
        optimum=optimum,
        worst=worst,
        random=random,
        optimal_sets={
            "train_base": {
                "deploy_intended_regret": deploy_intended["train"],
                "deploy_base_regret": regret(("train", "deploy", "base")),
                "train_intended_regret": regret(("train", "train", "intended")),
            },
            "deploy_base": {"deploy_intended_regret": deploy_intended["deploy"]},
            "mixture_base": {"deploy_intended_regret": mixture_range},
        },
        outer_aligned_shares=tabular_share_set(*(v is True for v in verdicts)),
        undetermined_shares=tabular_share_set(*(v is None for v in verdicts)),
        goals=goals,
        train_goals=train_goals or {},
        shared_dynamics=shared_dynamics,
        share_profile=ShareProfile(
            (0.0, 1.0), (deploy_intended["train"], deploy_intended["deploy"]), (inside_range,)
        )
        if shared_dynamics
        else None,
    )


def aligned_everywhere(regrets: Range, tau: float) -> bool | None:
    """Whether the largest regret over a set is ≤ τ; None when its bounds straddle τ."""
    low, high = regrets.max_bounds
    if high <= tau:
        return True
    if low > tau:
        return False
    return None


def regret_range(returns: Range, best: float, floor: float) -> Range:
    """The normalised-regret range of a return range (the order flips: high return, low
    regret); ``floor`` is the return of regret 1 (the class worst, by default)."""

    def reg(x: float) -> float:
        return normalized_regret(x, best, floor)

    if returns.exact:
        return Range.exact_range(reg(returns.max), reg(returns.min))
    return Range(
        min=reg(returns.max),
        max=reg(returns.min),
        min_bounds=(reg(returns.max_bounds[1]), reg(returns.max_bounds[0])),
        max_bounds=(reg(returns.min_bounds[1]), reg(returns.min_bounds[0])),
    )
