"""The two-dimensional robustness lens: outer alignment + robustness ⇒ alignment.

Robustness splits into capability robustness (the policy stays competent at something)
and objective robustness (it competently pursues the wrong goal); inner alignment is the
objective robustness of a mesa-optimiser.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import (
    MIXTURE_BASIS,
    aligned,
    best_other_goal,
    mesa_optimizer,
    optimal_on_mixture,
    outer_infinite_data,
)
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import Category, Verdict, aligned_verdict, undetermined_flags

NAME = "two_d"


def two_d(a: Analysis) -> Verdict:
    """Misaligned: robust (inner_H) but outer_H fails → OUTER; competent mesa-optimiser →
    INNER; competent at another goal → OBJECTIVE_ROBUSTNESS; else CAPABILITY_ROBUSTNESS
    (Koch, Langosco et al. 2021, "Objective robustness in deep RL"; the 2-D robustness
    picture)."""
    goal, competent = best_other_goal(a)
    c = {
        "aligned": aligned(a),
        "outer_H": outer_infinite_data(a),
        "inner_H": optimal_on_mixture(a),
        "mesa": mesa_optimizer(a),
        "other_goal_competence": competent,
    }
    flags = undetermined_flags(c)
    if c["aligned"].holds:
        return aligned_verdict(NAME, c, flags)
    if c["inner_H"].holds and c["outer_H"].fails:
        reason = (
            "The policy is robust (it maximises the objective on the data of its lifetime), "
            "but the objective is not outer aligned: an outer alignment failure."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags, basis=MIXTURE_BASIS)
    if c["outer_H"].fails:
        flags += ("outer alignment also fails",)
    robust = MIXTURE_BASIS if c["inner_H"].holds else ("aligned", "inner_H")
    every = (*robust, "mesa", "other_goal_competence")
    if c["mesa"].holds:
        reason = (
            f"A mesa-optimiser competently pursues its own objective ({a.mesa.objective}) off "  # type: ignore[union-attr]
            "distribution: objective robustness fails for a mesa-optimiser, i.e. inner "
            "misalignment."
        )
        return Verdict(NAME, Category.INNER, reason, c, flags, basis=(*robust, "mesa"))
    if c["other_goal_competence"].holds:
        reason = (
            f"The policy stays competent but pursues another goal ({goal}) in deployment: an "
            "objective robustness failure."
        )
        return Verdict(NAME, Category.OBJECTIVE_ROBUSTNESS, reason, c, flags, goal, basis=every)
    reason = (
        "The policy is not competent at any candidate goal in deployment: a capability "
        "robustness failure."
    )
    return Verdict(NAME, Category.CAPABILITY_ROBUSTNESS, reason, c, flags, basis=every)


LENS = LensDef(
    NAME,
    "2D",
    LensCard(
        title="2-D robustness",
        source="the 2-D robustness decomposition, as summarised in the essay's thread",
        quote="the general equation is instead Outer Alignment + 2D-Robustness = Alignment",
        rule="bad, inner_H and outer_H fails → outer; a competent mesa-optimiser → inner "
        "(mesa-misalignment); competent (≥ κ) at a goal other than R in deployment → "
        "objective robustness; else capability robustness.",
        categories=(
            Category.OUTER,
            Category.INNER,
            Category.OBJECTIVE_ROBUSTNESS,
            Category.CAPABILITY_ROBUSTNESS,
        ),
        frame="Opt(λ, R)",
    ),
    two_d,
)
