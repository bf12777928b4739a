"""Hubinger's lens: outer alignment as alignment of the infinite-data optimum.

Both conditions are read on one frame, the mixture the model meets over its lifetime (a
share λ of it in deployment): the objective is outer aligned when every policy that
maximises it there is aligned; a misaligned model that is itself such a maximiser shows
the objective at fault (outer), and any other misaligned model, one that does not
maximise the objective on its own lifetime's data, is an inner alignment failure.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import MIXTURE_BASIS, aligned, optimal_on_mixture, outer_infinite_data
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import Category, Verdict, aligned_verdict, undetermined_flags

NAME = "hubinger"


def hubinger(a: Analysis) -> Verdict:
    """Misaligned, optimal on the lifetime mixture (inner_H) and outer_H fails → OUTER;
    otherwise INNER (Hubinger et al. 2019, "Risks from learned optimization", and his reply
    in the essay's thread: for RL, the optimal policy on the MDP the model will actually
    encounter over its existence)."""
    c = {"aligned": aligned(a), "outer_H": outer_infinite_data(a), "inner_H": optimal_on_mixture(a)}
    shares = a.objectives.outer_aligned_shares.notation()
    flags = (*undetermined_flags(c), f"outer_H holds for λ ∈ {shares}")
    if c["aligned"].holds:
        return aligned_verdict(NAME, c, flags)
    if c["inner_H"].holds and c["outer_H"].fails:
        reason = (
            f"Even with infinite data (deployment share λ = {a.tolerances.deploy_share:g}) the "
            "objective is maximised by misaligned policies, and this policy is one of its "
            "maximisers: an outer alignment failure."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags, basis=MIXTURE_BASIS)
    if c["outer_H"].fails:
        flags += ("outer alignment also fails",)
    reason = (
        "The policy does not maximise the objective on the data of its own lifetime "
        f"(λ = {a.tolerances.deploy_share:g}): its learned behaviour, not the objective, is at "
        "fault, an inner alignment failure."
    )
    basis = MIXTURE_BASIS if c["inner_H"].holds else ("aligned", "inner_H")
    return Verdict(NAME, Category.INNER, reason, c, flags, basis=basis)


LENS = LensDef(
    NAME,
    "H",
    LensCard(
        title="Hubinger (infinite data)",
        source="Evan Hubinger, replies in the essay's thread",
        quote="for RL we can just say that we're talking about the optimal policy on the MDP "
        "that the model will actually encounter over its existence.",
        rule="bad, reg^λ_R(π̂) ≤ ε on the lifetime mixture (inner_H) and some member of "
        "Opt(λ, R) misaligned (outer_H fails) → outer; any other bad policy → inner.",
        categories=(Category.OUTER, Category.INNER),
        frame="Opt(λ, R)",
    ),
    hubinger,
)
