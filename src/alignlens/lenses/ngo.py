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
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import Category, Verdict, aligned_verdict, undetermined_flags

NAME = "ngo"
BASIS = ("aligned", "rewarded", "mesa")


def ngo(a: Analysis) -> Verdict:
    """Misaligned and rewarded by R in deployment → OUTER; a competent mesa-optimiser with
    m ≠ R → INNER; else ROBUSTNESS (Ngo, comment on the essay, 2020)."""
    reading = a.tolerances.mesa_reading
    goal, competent = best_other_goal(a)
    mesa = mesa_optimizer(a) if reading == "structural" else competent
    c = {"aligned": aligned(a), "rewarded": deploy_rewarded(a), "mesa": mesa}
    flags = (*undetermined_flags(c), f"mesa-optimisers read {reading}ly")
    if c["aligned"].holds:
        return aligned_verdict(NAME, c, flags)
    if c["rewarded"].holds:
        reason = (
            "The training reward, carried over to deployment, rewards this bad behaviour: an "
            "outer alignment problem."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags, basis=("aligned", "rewarded"))
    if c["mesa"].holds:
        objective = a.mesa.objective if reading == "structural" else goal  # type: ignore[union-attr]
        reason = (
            f"The policy is a mesa-optimiser that competently pursues its own objective "
            f"({objective}) instead of the reward: an inner alignment problem."
        )
        goal_named = goal if reading == "behavioural" else None
        return Verdict(NAME, Category.INNER, reason, c, flags, goal_named, basis=BASIS)
    reason = (
        "The reward does not favour this behaviour and no mesa-optimiser chose it: a robustness "
        "problem, not an alignment failure."
    )
    return Verdict(NAME, Category.ROBUSTNESS, reason, c, flags, basis=BASIS)


LENS = LensDef(
    NAME,
    "N",
    LensCard(
        title="Ngo (the conventional view)",
        source="Richard Ngo, comment on the essay",
        quote="bad behaviour X is an outer alignment problem if it would have been rewarded "
        "highly by the training reward function (or a natural generalisation of it). And X is "
        "an inner alignment problem if the agent is a mesa-optimiser and deliberately chose X "
        "to further its goals. And X is just a robustness problem, not an alignment problem, "
        "if neither of these apply.",
        rule="bad and reg^deploy_R(π̂) ≤ ε (rewarded) → outer; a mesa-optimiser competent "
        "(≥ κ) at its own objective m ≠ R (mesa) → inner; else robustness.",
        categories=(Category.OUTER, Category.INNER, Category.ROBUSTNESS),
    ),
    ngo,
)
