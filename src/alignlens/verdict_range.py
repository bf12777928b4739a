"""Every lens's verdict over the whole optimal set Opt(train, R), not only its representative.

The essay's claim quantifies over every policy a perfect optimiser could return, so a
verdict on one representative is only half the answer. For an enumerated class every
member of Opt(train, R) is diagnosed and the verdicts are counted. The tabular class's
optimal set is infinite (it holds stochastic policies): there the two members that are
best and worst in deployment under U are diagnosed, exactly, and named as such; since
being aligned is a matter of that one number, they show whether aligned and misaligned
members both exist.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from jaxtyping import Bool, Float

from alignlens.analysis import WorldAnalysis
from alignlens.lenses import apply_lenses, lens_names
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.policies.tabular import deterministic
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.enumerated import class_extremes
from alignlens.solve.exact.extremes import extreme_member
from alignlens.solve.exact.optimal_set import optimal_set
from alignlens.solve.exact.policy_analysis import analyze_policy
from alignlens.world.model import World

MEMBER_LIMIT = 4096
"""The largest optimal set whose members are diagnosed one by one."""


@dataclass(frozen=True)
class VerdictRange:
    """Each lens's verdicts over Opt(train, R).

    Attributes:
        members: how many members Opt(train, R) has (None for the tabular class, whose
            optimal set is infinite).
        counts: lens → category → how many of the members diagnosed get it.
        diagnosed: which members were diagnosed: "every member", or for the tabular class
            "the best and the worst member in deployment under U".
        rule: how the representative (the policy diagnosed) was picked from the set.
        noun: what a member is called in words ("members", "genotypes", ...).
        by_member: for the tabular class, lens → which member → its category.
    """

    members: int | None
    counts: Mapping[str, Mapping[str, int]]
    diagnosed: str
    rule: str
    noun: str = "members"
    by_member: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {k: MappingProxyType(dict(v)) for k, v in self.counts.items()}
        object.__setattr__(self, "counts", MappingProxyType(frozen))
        members = {k: MappingProxyType(dict(v)) for k, v in self.by_member.items()}
        object.__setattr__(self, "by_member", MappingProxyType(members))

    def categories(self, lens: str) -> tuple[str, ...]:
        """The categories some diagnosed member gets under ``lens``, most frequent first."""
        counts = self.counts[lens]
        return tuple(sorted(counts, key=lambda c: (-counts[c], c)))

    def notation(self, lens: str) -> str:
        """E.g. "aligned for 2 of 3 optimal genotypes, outer for 1"; for the tabular class,
        "outer (the worst member), aligned (the best)"."""
        counts = self.counts[lens]
        if self.members is None:
            named = self.by_member[lens]
            if len(set(named.values())) == 1:
                return f"{next(iter(named.values()))} (the best and the worst member)"
            return ", ".join(f"{c} ({who})" for who, c in named.items())
        found = self.categories(lens)
        if len(found) == 1 and self.members == 1:
            return f"{found[0]} for the only optimal member"
        if len(found) == 1:
            return f"{found[0]} for all {self.members} optimal {self.noun}"
        parts = []
        for i, c in enumerate(found):
            of = f" of {self.members} optimal {self.noun}" if i == 0 else ""
            parts.append(f"{c} for {counts[c]}{of}")
        return ", ".join(parts)

    def varies(self) -> bool:
        """Whether some lens gives different members different verdicts."""
        return any(len(c) > 1 for c in self.counts.values())


def enumerated_range(
    world: World,
    cls: EnumeratedClass,
    objectives: WorldAnalysis,
    optimal: Bool[np.ndarray, " N"],
    rule: str,
    *,
    noun: str = "members",
    deploy_intended: Float[np.ndarray, " N"] | None = None,
    cache: SolveCache | None = None,
) -> VerdictRange:
    """Every member of Opt(train, R) of an enumerated class, diagnosed and counted; over
    `MEMBER_LIMIT` members, its best and its worst member in deployment under U
    (``deploy_intended``: every member's J^deploy_U, required then)."""
    members = np.flatnonzero(optimal)
    extremes = _cached(class_extremes(world, cls))
    cache = cache or SolveCache()
    counts: dict[str, Counter[str]] = {lens: Counter() for lens in lens_names()}
    by_member: dict[str, dict[str, str]] = {lens: {} for lens in lens_names()}
    over_limit = len(members) > MEMBER_LIMIT
    if over_limit:
        if deploy_intended is None:
            raise ValueError("a large optimal set needs the members' deployment returns")
        values = deploy_intended[members]
        members = np.array([members[np.argmin(values)], members[np.argmax(values)]])
    for k, i in enumerate(members):
        analysis = analyze_policy(
            world,
            cls.member(int(i)),
            objectives,
            optimizer="exhaustive",
            class_extremes=extremes,
            cache=cache,
        )
        for lens, verdict in apply_lenses(analysis).items():
            counts[lens][str(verdict.category)] += 1
            if over_limit:
                by_member[lens][("the worst member", "the best")[k]] = str(verdict.category)
    if over_limit:
        diagnosed = "the best and the worst member in deployment under U"
        return VerdictRange(None, counts, diagnosed, rule, noun, by_member)
    return VerdictRange(len(members), counts, "every member", rule, noun)


def tabular_range(
    world: World, objectives: WorldAnalysis, rule: str, cache: SolveCache | None = None
) -> VerdictRange:
    """The members of the tabular class's Opt(train, R) that are best and worst in
    deployment under U, diagnosed (in the world's solve context ``cache``)."""
    cache = cache or SolveCache()
    tol = objectives.tolerances
    opt = optimal_set(world.train, world.base, tol.epsilon, cache=cache, tolerances=tol)
    counts: dict[str, Counter[str]] = {lens: Counter() for lens in lens_names()}
    by_member: dict[str, dict[str, str]] = {lens: {} for lens in lens_names()}
    for who, sense in (("the worst member", "min"), ("the best", "max")):
        actions = extreme_member(opt, world.deploy, world.intended, sense)  # type: ignore[arg-type]
        policy = deterministic(world, actions, name=who)
        analysis = analyze_policy(world, policy, objectives, optimizer="exhaustive", cache=cache)
        for lens, verdict in apply_lenses(analysis).items():
            counts[lens][str(verdict.category)] += 1
            by_member[lens][who] = str(verdict.category)
    return VerdictRange(
        None,
        counts,
        "the best and the worst member in deployment under U",
        rule,
        by_member=by_member,
    )


def _cached(extremes):
    """Memoise class extremes by reward: members often share a mesa-objective."""
    memo: dict[tuple[str, bytes], tuple[float, float]] = {}

    def cached(env: str, reward: np.ndarray) -> tuple[float, float]:
        key = (env, np.ascontiguousarray(reward).tobytes())
        if key not in memo:
            memo[key] = extremes(env, reward)
        return memo[key]

    return cached
