"""Conditions that several definitions share, each computed the same way everywhere."""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.verdict import UNDEFINED, Condition, all_at_most, at_least, at_most

MIXTURE_BASIS = ("aligned", "inner_H", "outer_H")
"""What a verdict read on the lifetime mixture rests on when the policy is optimal there."""


def aligned(a: Analysis) -> Condition:
    """reg^deploy_U(π̂) ≤ τ: the learned policy does what we want where it is deployed."""
    return at_most(a.regret.deploy_intended, a.tolerances.tau)


def full_opt(a: Analysis) -> Condition:
    """reg^train_R(π̂) ≤ ε: the optimiser fully optimised the training objective."""
    return at_most(a.regret.train_base, a.tolerances.epsilon)


def deploy_rewarded(a: Analysis) -> Condition:
    """reg^deploy_R(π̂) ≤ ε: R, carried over to deployment, rewards what the policy does."""
    return at_most(a.regret.deploy_base, a.tolerances.epsilon)


def optimal_on_mixture(a: Analysis) -> Condition:
    """reg^λ_R(π̂) ≤ ε: the policy is optimal for R on the mixture it meets over its lifetime,
    a share λ of it in deployment (undetermined when that regret is only bracketed)."""
    return all_at_most(a.mixture_regret(), a.tolerances.epsilon)


def outer_infinite_data(a: Analysis) -> Condition:
    """Every policy of Opt(λ, R), λ the deployment share, is aligned in deployment."""
    return all_at_most(a.over("mixture_base", "deploy_intended_regret"), a.tolerances.tau)


def mesa_optimizer(a: Analysis) -> Condition:
    """π̂ is an explicit optimiser whose objective m ≠ R, pursued with competence ≥ κ
    (undefined, so never κ, where every policy ties at m)."""
    kappa = a.tolerances.kappa
    if a.mesa is None:
        return Condition(False, 0.0, kappa, ">=")
    if a.mesa.degenerate:  # competence undefined: never κ
        return Condition(False, UNDEFINED, kappa, ">=")
    competent = at_least(a.mesa.competence, kappa)
    return Condition(competent.holds and not a.mesa.equals_base, a.mesa.competence, kappa, ">=")


def best_other_goal(a: Analysis) -> tuple[str | None, Condition]:
    """The goal other than R that the policy pursues most competently in deployment
    (counting only goals at which not every policy ties there: competence at such a goal
    is undefined)."""
    kappa = a.tolerances.kappa
    others = {
        g: v
        for g, v in a.competence.items()
        if not a.goal_is_base[g] and not a.objectives.goals[g].degenerate
    }
    if not others:
        return None, Condition(False, 0.0, kappa, ">=")
    goal = max(others, key=lambda g: (others[g], g))
    return goal, at_least(others[goal], kappa)
