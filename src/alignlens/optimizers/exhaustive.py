"""The exhaustive optimiser: the essay's perfect optimiser, the reference for every other.

It returns the whole optimal set Opt(train, R) of the class and one representative. By
default the representative is computed: ``"worst-deployment"``, the member with the highest
intended regret in deployment (ties: the first), the member that puts the claim "every
training optimum is aligned" to the hardest test. A tie-break may be declared instead:

- ``"best-deployment"``: the member with the lowest intended regret in deployment;
- ``"first"``: the first member (enumerated) or the first optimal action at every state
  (tabular);
- a list of member names: the first of them that is optimal (enumerated classes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from alignlens.errors import PolicyError
from alignlens.learned import ExhaustiveResult
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.policies.tabular import deterministic
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.analyze import analyze_world
from alignlens.solve.exact.enumerated import (
    analyze_enumerated,
    optimal_members,
    regrets,
)
from alignlens.solve.exact.extremes import extreme_member
from alignlens.solve.exact.optimal_set import optimal_set
from alignlens.tolerances import Tolerances
from alignlens.world.model import World

TieBreak = str | Sequence[str]
DEPLOYMENT_TIE_BREAKS = ("worst-deployment", "best-deployment")
RULES = {
    "worst-deployment": "the member of Opt(train, R) worst in deployment under U",
    "best-deployment": "the member of Opt(train, R) best in deployment under U (declared)",
    "first": "the first member of Opt(train, R) (declared)",
}


def rule_of(tie_break: TieBreak) -> str:
    """How a tie-break picks the representative, in words."""
    if isinstance(tie_break, str):
        return RULES.get(tie_break, tie_break)
    return "the first optimal member of " + ", ".join(tie_break) + " (declared)"


def exhaustive(
    world: World,
    policy_class: EnumeratedClass | None = None,
    *,
    tie_break: TieBreak = "worst-deployment",
    tolerances: Tolerances | None = None,
    cache: SolveCache | None = None,
) -> ExhaustiveResult:
    """Search the whole class (tabular when ``policy_class`` is None) for Opt(train, R),
    with the solve context ``cache`` of this world (a new one when None), which the result
    hands on to the diagnosis."""
    tol = tolerances or Tolerances(deploy_share=world.deploy_share)
    cache = cache or SolveCache()
    label = tie_break if isinstance(tie_break, str) else "prefer " + ", ".join(tie_break)
    if policy_class is None:
        return _tabular(world, tie_break, label, tol, cache)
    objectives, returns = analyze_enumerated(world, policy_class, tol, cache=cache)
    optimal = optimal_members(
        returns["train", "base"], tol.epsilon, tol, objectives.random.train_base
    )
    members = np.flatnonzero(optimal)
    index = int(members[0])
    if isinstance(tie_break, str) and tie_break in DEPLOYMENT_TIE_BREAKS:
        regret = regrets(returns["deploy", "intended"])[members]
        pick = np.argmax(regret) if tie_break == "worst-deployment" else np.argmin(regret)
        index = int(members[pick])
    elif not isinstance(tie_break, str):
        names = {policy_class.names(int(i)): int(i) for i in members}
        index = next((names[n] for n in tie_break if n in names), index)
    elif tie_break != "first":
        raise _unknown(tie_break)
    member = policy_class.member(index)
    return ExhaustiveResult(member, label, objectives, optimal, index, returns, cache)


def _tabular(
    world: World, tie_break: TieBreak, label: str, tol: Tolerances, cache: SolveCache
) -> ExhaustiveResult:
    objectives = analyze_world(world, tol, cache=cache)
    opt = optimal_set(world.train, world.base, tol.epsilon, cache=cache, tolerances=tol)
    if tie_break == "first":
        actions = np.argmax(opt.actions, axis=1)
    elif isinstance(tie_break, str) and tie_break in DEPLOYMENT_TIE_BREAKS:
        sense = "min" if tie_break == "worst-deployment" else "max"
        actions = extreme_member(opt, world.deploy, world.intended, sense)
    elif isinstance(tie_break, str):
        raise _unknown(tie_break)
    else:
        raise PolicyError(
            "a preference by member name needs an enumerated policy class",
            field="tie_break",
            fix='use "first", "worst-deployment" or "best-deployment" for the tabular class',
        )
    policy = deterministic(world, actions, name=f"exhaustive ({label})")
    return ExhaustiveResult(policy, label, objectives, cache=cache)


def _unknown(tie_break: str) -> PolicyError:
    return PolicyError(
        f"unknown tie-break {tie_break!r}",
        field="tie_break",
        fix='use "first", "worst-deployment", "best-deployment" or a list of member names',
    )
