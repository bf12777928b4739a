"""Ngo's lens, the conventional view from the essay's thread.

Bad behaviour is an outer alignment problem if the training reward (carried over to
deployment) would reward it highly; an inner alignment problem if the agent is a
mesa-optimiser that chose it to further its own goals; otherwise it is a robustness
problem, not an alignment failure.

What counts as a mesa-optimiser is read structurally by default (an explicit optimiser
whose declared, checked objective is not R) or, as an option, behaviourally (a policy
that competently pursues some goal other than R in deployment, whatever it is made of);
every verdict says which reading it used.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned, best_other_goal, deploy_rewarded, mesa_optimizer
from alignlens.lenses.verdict import Category, Verdict, undetermined_flags

NAME = "ngo"


def ngo(a: Analysis) -> Verdict:
    """Misaligned and rewarded by R in deployment → OUTER; a competent mesa-optimiser with
    m ≠ R → INNER; else ROBUSTNESS (Ngo, comment on the essay, 2020)."""
    reading = a.tolerances.mesa_reading
    goal, competent = best_other_goal(a)
    mesa = mesa_optimizer(a) if reading == "structural" else competent
    c = {"aligned": aligned(a), "rewarded": deploy_rewarded(a), "mesa": mesa}
    flags = (*undetermined_flags(c), f"mesa-optimisers read {reading}ly")
    if c["aligned"].holds:
        return Verdict(
            NAME, Category.ALIGNED, "The policy does what we want in deployment.", c, flags
        )
    if c["rewarded"].holds:
        reason = (
            "The training reward, carried over to deployment, rewards this bad behaviour: an "
            "outer alignment problem."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags)
    if c["mesa"].holds:
        objective = a.mesa.objective if reading == "structural" else goal  # type: ignore[union-attr]
        reason = (
            f"The policy is a mesa-optimiser that competently pursues its own objective "
            f"({objective}) instead of the reward: an inner alignment problem."
        )
        goal_named = goal if reading == "behavioural" else None
        return Verdict(NAME, Category.INNER, reason, c, flags, goal_named)
    reason = (
        "The reward does not favour this behaviour and no mesa-optimiser chose it: a robustness "
        "problem, not an alignment failure."
    )
    return Verdict(NAME, Category.ROBUSTNESS, reason, c, flags)
