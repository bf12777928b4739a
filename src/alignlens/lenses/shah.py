"""Shah's lens, the behavioural decomposition from the essay's thread.

Outer alignment is the reward incentivising good behaviour on the training
distribution; any failure of a policy whose reward passes that test is an inner
alignment (robustness) failure, whatever happens in deployment.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import (
    Category,
    Verdict,
    aligned_verdict,
    all_at_most,
    undetermined_flags,
)

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
        return aligned_verdict(NAME, c, flags)
    if c["outer_S"].fails:
        reason = (
            "The reward incentivises bad behaviour even on the training distribution: an outer "
            "alignment failure."
        )
        return Verdict(NAME, Category.OUTER, reason, c, flags, basis=("aligned", "outer_S"))
    reason = (
        "The reward incentivises good behaviour in training, yet the policy behaves badly once "
        "deployed: an inner alignment (robustness) failure."
    )
    return Verdict(NAME, Category.INNER, reason, c, flags, basis=("aligned", "outer_S"))


LENS = LensDef(
    NAME,
    "S",
    LensCard(
        title="Shah (behaviour in training)",
        source="Rohin Shah, comment on the essay",
        quote='outer alignment = "the reward function incentivizes good behavior on the '
        'training distribution" and robustness / inner alignment = "the learned policy has '
        'good behavior on the deployment distribution"',
        rule="bad and some member of Opt(train, R) has reg^train_U > τ (outer_S fails) → "
        "outer; any other bad policy → inner.",
        categories=(Category.OUTER, Category.INNER),
        frame="Opt(train, R)",
    ),
    shah,
)
