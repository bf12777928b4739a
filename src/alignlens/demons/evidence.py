"""Hack evidence (docs/model.md) from a demon's run and its counterfactual, computed exactly.

The inner optimiser's own objective is a goal of the world. The evidence records its
value at the learned policy, its highest value over Opt(train, R) (so the lens can ask
whether the demon raised it above every training optimum), and the training regret of
the counterfactual run, in which the demon's channel of influence is switched off.
"""

from __future__ import annotations

from alignlens.analysis import HackEvidence
from alignlens.policies.tabular import TabularPolicy
from alignlens.world.model import World


def hack_evidence(
    world: World,
    learned: TabularPolicy,
    counterfactual: TabularPolicy,
    inner_goal: str,
    inner_optimizer: str,
    epsilon: float = 1e-6,
) -> HackEvidence:
    """The evidence for ``learned``, whose inner optimiser pursues ``world.goals[inner_goal]``."""
    from alignlens.analysis import normalized_regret
    from alignlens.solve import evaluate
    from alignlens.solve.extremes import return_range
    from alignlens.solve.optimal_set import optimal_set

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
