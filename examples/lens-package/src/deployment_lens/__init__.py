"""An example lens: Hubinger's definition read on the deployment MDP alone.

In the essay's thread Hubinger also says that for RL "it needs to be optimal relative to
the deployment MDP". Read that way, an objective is outer aligned when every policy
optimal for it in deployment is aligned, and a misaligned policy is the objective's fault
when it is itself optimal there. This package registers that reading as a lens named
``deployment_only``; alignlens finds it through the entry point in ``pyproject.toml``.
"""

from __future__ import annotations

from alignlens.analysis import Analysis
from alignlens.lenses import Category, LensCard, LensDef, Verdict, all_at_most, at_most

NAME = "deployment_only"


def deployment_only(a: Analysis) -> Verdict:
    """Misaligned, optimal for R in deployment and some member of Opt(deploy, R) misaligned →
    OUTER; otherwise INNER."""
    tol = a.tolerances
    conditions = {
        "aligned": at_most(a.regret.deploy_intended, tol.tau),
        "outer_deploy": all_at_most(a.over("deploy_base", "deploy_intended_regret"), tol.tau),
        "optimal_deploy": at_most(a.regret.deploy_base, tol.epsilon),
    }
    if conditions["aligned"].holds:
        reason = "The policy does what we want in deployment."
        return Verdict(NAME, Category.ALIGNED, reason, conditions, basis=("aligned",))
    basis = ("aligned", "optimal_deploy", "outer_deploy")
    if conditions["optimal_deploy"].holds and conditions["outer_deploy"].fails:
        reason = (
            "The policy is optimal for the objective on the deployment MDP, where the "
            "objective's optima include misaligned policies: an outer alignment failure."
        )
        return Verdict(NAME, Category.OUTER, reason, conditions, basis=basis)
    reason = (
        "The policy is not an optimum of the objective on the deployment MDP whose fault it "
        "could be: an inner alignment failure."
    )
    return Verdict(NAME, Category.INNER, reason, conditions, basis=basis)


LENS = LensDef(
    NAME,
    "Dep",
    LensCard(
        title="Hubinger, deployment MDP only (example package)",
        source="Evan Hubinger, reply in the essay's thread",
        quote="It gets a bit more complicated for RL, but you can just say that it needs to "
        "be optimal relative to the deployment MDP.",
        rule="bad, reg^deploy_R(π̂) ≤ ε and some member of Opt(deploy, R) misaligned → outer; "
        "any other bad policy → inner.",
        categories=(Category.OUTER, Category.INNER),
        frame="Opt(deploy, R)",
    ),
    deployment_only,
)
