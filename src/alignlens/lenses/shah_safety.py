"""Shah's second decomposition in the essay's thread: useful in training, safe in deployment.

Outer alignment is "good behavior on the training distribution" (what tells you the agent
is useful): the policy's own regret under U in training is at most τ. Inner alignment is
"non-catastrophic behavior on the deployment distribution" (what tells you it is safe):
its regret under U in deployment is at most χ, the catastrophe threshold. A policy that
is useful and safe but still worse than τ in deployment has failed neither.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import (
    Category,
    Verdict,
    aligned_verdict,
    at_most,
    undetermined_flags,
)

NAME = "shah_safety"


def shah_safety(a: Analysis) -> Verdict:
    """Misaligned and reg^train_U(π̂) > τ (not useful) → OUTER; useful and reg^deploy_U(π̂) >
    χ (not safe) → INNER; useful and safe → ROBUSTNESS, not an alignment failure (Shah,
    comment on the essay, 2020)."""
    tol = a.tolerances
    c = {
        "aligned": aligned(a),
        "useful": at_most(a.regret.train_intended, tol.tau),
        "safe": at_most(a.regret.deploy_intended, tol.catastrophe),
    }
    flags = undetermined_flags(c)
    if c["aligned"].holds:
        return aligned_verdict(NAME, c, flags)
    if c["useful"].fails:
        reason = (
            "The policy does not even behave well on the training distribution (it is not "
            "useful): an outer alignment failure."
        )
        if c["safe"].fails:
            flags += ("its deployment is catastrophic too",)
        return Verdict(NAME, Category.OUTER, reason, c, flags, basis=("aligned", "useful"))
    basis = ("aligned", "useful", "safe")
    if c["safe"].fails:
        reason = (
            "The policy behaves well in training but catastrophically in deployment (regret "
            f"under U above χ = {tol.catastrophe:g}): it is useful but not safe, an inner "
            "alignment failure."
        )
        return Verdict(NAME, Category.INNER, reason, c, flags, basis=basis)
    reason = (
        "The policy behaves well in training and not catastrophically in deployment: useful "
        "and safe, though worse than we want there; a robustness shortfall, not an alignment "
        "failure."
    )
    return Verdict(NAME, Category.ROBUSTNESS, reason, c, flags, basis=basis)


LENS = LensDef(
    NAME,
    "S′",
    LensCard(
        title="Shah's useful/safe split (the thread)",
        source="Rohin Shah, comment on the essay",
        quote='Another decomposition is: outer alignment = "good behavior on the training '
        'distribution", robustness / inner alignment = "non-catastrophic behavior on the '
        'deployment distribution". In this case, outer alignment is what tells you that your '
        "agent is actually useful, and inner alignment is what tells you it is safe.",
        rule="bad and reg^train_U(π̂) > τ (not useful) → outer; useful and reg^deploy_U(π̂) > "
        "χ, the catastrophe threshold (not safe) → inner; useful and safe → robustness.",
        categories=(Category.OUTER, Category.INNER, Category.ROBUSTNESS),
    ),
    shah_safety,
)
