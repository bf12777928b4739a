"""Shah's lens, the behavioural decomposition from the essay's thread.

Outer alignment is the reward incentivising good behaviour on the training
distribution; any failure of a policy whose reward passes that test is an inner
alignment (robustness) failure, whatever happens in deployment.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned
from alignlens.lenses.verdict import Category, Verdict, all_at_most, undetermined_flags

NAME = "shah"


def shah(a: Analysis) -> Verdict:
    """Misaligned and some training optimum behaves badly in training (outer_S fails) →
    OUTER; else INNER (Shah, comment on the essay, 2020)."""
    c = {
        "aligned": aligned(a),
        "outer_S": all_at_most(a.over("train_base", "train_intended_regret"), a.tolerances.tau),
    }
    flags = undetermined_flags(c)
    if c["aligned"].holds:
        return Verdict(
            NAME, Category.ALIGNED, "The policy does what we want in deployment.", c, flags
        )
    if c["outer_S"].fails:
        reason = (
            "The reward incentivises bad behaviour even on the training distribution: an outer "
            "alignment failure."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags)
    reason = (
        "The reward incentivises good behaviour in training, yet the policy behaves badly once "
        "deployed: an inner alignment (robustness) failure."
    )
    return Verdict(NAME, Category.INNER, reason, c, flags)
