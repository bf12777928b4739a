"""Hubinger's lens: outer alignment as alignment of the infinite-data optimum.

The objective is outer aligned when every policy that maximises it on the full data
distribution — a fraction λ of it from deployment — is aligned; a misaligned model that
still behaves well by the objective where it is deployed shows the objective at fault,
and any other misaligned model is an inner alignment failure.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned, deploy_rewarded, outer_infinite_data
from alignlens.lenses.verdict import Category, Verdict, undetermined_flags

NAME = "hubinger"


def hubinger(a: Analysis) -> Verdict:
    """Misaligned, good by R in deployment (inner_H) and outer_H fails → OUTER; otherwise
    INNER (Hubinger et al. 2019, "Risks from learned optimization", and the essay's thread)."""
    c = {"aligned": aligned(a), "outer_H": outer_infinite_data(a), "inner_H": deploy_rewarded(a)}
    shares = a.objectives.outer_aligned_shares.notation()
    flags = (*undetermined_flags(c), f"outer_H holds for λ ∈ {shares}")
    if c["aligned"].holds:
        return Verdict(
            NAME, Category.ALIGNED, "The policy does what we want in deployment.", c, flags
        )
    if c["inner_H"].holds and c["outer_H"].fails:
        reason = (
            f"Even with infinite data (deployment share λ = {a.tolerances.deploy_share:g}) the "
            "objective is maximised by misaligned policies, and this policy does well by it "
            "where it is deployed: an outer alignment failure."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags)
    if c["outer_H"].fails:
        flags += ("outer alignment also fails",)
    reason = (
        "The policy does not do what the objective rewards where it is deployed: its learned "
        "behaviour, not the objective, is at fault, an inner alignment failure."
    )
    return Verdict(NAME, Category.INNER, reason, c, flags)
