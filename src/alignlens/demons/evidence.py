"""Hack evidence (docs/model.md) from a demon's run and its counterfactual, computed exactly.

The evidence records the inner optimiser's own objective at the learned policy, its
highest value over Opt(train, R) (so the lens can ask whether the demon raised it above
every training optimum), and the training return and regret of the counterfactual run,
in which the demon's channel of influence is switched off. The inner objective is either
a goal of the world (`hack_evidence`) or a quantity measured on the run itself, such as
the growth of the demon's channel, with its bound at every training optimum
(`measured_hack_evidence`).
"""

from __future__ import annotations

from alignlens.analysis import HackEvidence, normalized_regret
from alignlens.policies.tabular import TabularPolicy
from alignlens.solve import evaluate
from alignlens.solve.exact.extremes import return_range
from alignlens.solve.exact.optimal_set import optimal_set
from alignlens.world.model import World


def measured_hack_evidence(
    world: World,
    counterfactual: TabularPolicy,
    inner_optimizer: str,
    measured: float,
    at_optimum: float,
) -> HackEvidence:
    """The evidence when the inner objective is measured on the run (``measured``) and
    bounded at every training optimum (``at_optimum``)."""

    train = world.environment("train")
    opt = optimal_set(train, world.base, 1e-6)
    fair_return = evaluate(train, world.base, counterfactual.train).value
    return HackEvidence(
        inner_optimizer=inner_optimizer,
        inner_objective=measured,
        inner_objective_at_optimum=at_optimum,
        counterfactual_regret=normalized_regret(fair_return, opt.best.value, opt.worst.value),
        counterfactual_return=fair_return,
    )


def hack_evidence(
    world: World,
    learned: TabularPolicy,
    counterfactual: TabularPolicy,
    inner_goal: str,
    inner_optimizer: str,
    epsilon: float = 1e-6,
) -> HackEvidence:
    """The evidence for ``learned``, whose inner optimiser pursues ``world.goals[inner_goal]``."""

    train = world.environment("train")
    inner = world.goals[inner_goal]
    opt = optimal_set(train, world.base, epsilon)
    fair_return = evaluate(train, world.base, counterfactual.train).value
    regret = normalized_regret(fair_return, opt.best.value, opt.worst.value)
    return HackEvidence(
        inner_optimizer=inner_optimizer,
        inner_objective=evaluate(train, inner, learned.train).value,
        inner_objective_at_optimum=return_range(opt, train, inner).max,
        counterfactual_regret=regret,
        counterfactual_return=fair_return,
    )
