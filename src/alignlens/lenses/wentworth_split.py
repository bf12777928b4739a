"""Wentworth's split, which he accepts in the essay's thread: outer alignment and robustness.

His outer alignment is split in two: outer′, "this reward function would give good
policies high reward if the policies were evaluated on the deployment distribution"
(every member of Opt(deploy, R) is aligned), and robustness, "policies which perform well
in training also perform well in deployment" (every member of Opt(train, R) is optimal
for R in deployment). Robustness + outer alignment + full optimisation ⇒ aligned (claim
2), so a misaligned policy that is fully optimised fails one of the two pieces, and one
that is not was let down by the search, as in the essay.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses.common import aligned, full_opt
from alignlens.lenses.protocol import LensCard, LensDef
from alignlens.lenses.verdict import (
    Category,
    Verdict,
    aligned_verdict,
    all_at_most,
    undetermined_flags,
)
from alignlens.lenses.wentworth import counterfactual_clears, hack_evidence, imperfect_search

NAME = "wentworth_split"


def wentworth_split(a: Analysis) -> Verdict:
    """Misaligned and fully optimised: outer_W′ fails → OUTER, else ROBUSTNESS (the policy
    performs well in training, not in deployment); not fully optimised → HACKED with hack
    evidence, else OPTIMIZATION (Wentworth, reply in the essay's thread, 2020)."""
    tol = a.tolerances
    c = {
        "aligned": aligned(a),
        "full_opt": full_opt(a),
        "outer_W_prime": all_at_most(a.over("deploy_base", "deploy_intended_regret"), tol.tau),
        "robust_W": all_at_most(a.over("train_base", "deploy_base_regret"), tol.epsilon),
        "hack_evidence": hack_evidence(a),
    }
    if a.hack is not None and a.hack.counterfactual_regret is not None:
        c["counterfactual_regret"] = counterfactual_clears(a)
    flags = undetermined_flags(c)
    if c["aligned"].holds:
        return aligned_verdict(NAME, c, flags)
    if c["full_opt"].holds:
        basis = ("aligned", "full_opt", "outer_W_prime")
        if c["outer_W_prime"].fails:
            reason = (
                "The policy is optimal in training and misaligned, and the reward would give "
                "misaligned policies high reward even evaluated on the deployment distribution: "
                "an outer alignment failure."
            )
            return Verdict(NAME, Category.OUTER, reason, c, flags, basis=basis)
        reason = (
            "The reward, evaluated on the deployment distribution, gives high reward only to "
            "aligned policies, yet this policy, optimal in training, is misaligned there: "
            "performing well in training did not carry over to deployment, a robustness "
            "failure."
        )
        if c["robust_W"].holds:
            flags += (
                "robust_W holds over Opt(train, R) as computed (every step within "
                "ε·(V* − W)/T of the best), a set this policy is not in: its training regret "
                "is within ε, but not every one of its steps",
            )
        return Verdict(NAME, Category.ROBUSTNESS, reason, c, flags, basis=basis)
    for name, failure in (("outer_W_prime", "outer′"), ("robust_W", "robustness")):
        if c[name].fails:
            flags += (f"{failure} also fails",)
    return imperfect_search(NAME, a, c, flags)


LENS = LensDef(
    NAME,
    "W′",
    LensCard(
        title="Wentworth's split (the thread)",
        source="John Wentworth, reply in the essay's thread",
        quote="We could definitely break up what-I'm-calling-outer-alignment into one piece "
        'that says "this reward function would give good policies high reward if the policies '
        'were evaluated on the deployment distribution" (i.e. outer alignment) and a second '
        'piece which says "policies which perform well in training also perform well in '
        'deployment" (i.e. robustness).',
        rule="bad and fully optimised: some member of Opt(deploy, R) misaligned (outer_W′ "
        "fails) → outer, else robustness; bad and not fully optimised → hacked where an inner "
        "optimiser steered the search, else optimization.",
        categories=(Category.OUTER, Category.ROBUSTNESS, Category.OPTIMIZATION, Category.HACKED),
        frame="Opt(deploy, R)",
    ),
    wentworth_split,
)
