"""Exact analysis over an enumerated class: every member evaluated, sets taken literally.

For a finite class, Opt(e, f) is the set of members whose normalised regret is ≤ ε, and
every extreme over it is a min or max over those members. The deployment shares λ for
which every member of Opt(λ, R) is aligned come from the upper envelope of the lines
λ ↦ (1 − λ)·J^train_R + λ·J^deploy_R: the optimal set can only change where the envelope
bends, so the property is decided at each bend and on each segment between bends.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from jaxtyping import Bool, Float

from alignlens.analysis import (
    Envelope,
    GoalRange,
    MixtureExtremes,
    Range,
    Returns,
    ShareProfile,
    ShareSet,
    WorldAnalysis,
    all_tie,
    mix,
    optimality_thresholds,
)
from alignlens.policies.enumerated import EnumeratedClass, members_in_chunks
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.many_policies import returns_many
from alignlens.solve.exact.mixture import share_set
from alignlens.tolerances import Tolerances
from alignlens.world.model import ENVIRONMENTS, World


@dataclass(frozen=True, eq=False)
class MemberReturns:
    """J of every member, per environment and objective ("base", "intended", goals...)."""

    values: Mapping[tuple[str, str], Float[np.ndarray, " N"]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __getitem__(self, key: tuple[str, str]) -> Float[np.ndarray, " N"]:
        return self.values[key]


def member_returns(
    world: World, cls: EnumeratedClass, objectives: Mapping[str, Float[np.ndarray, "S A"]]
) -> MemberReturns:
    """Evaluate every member under every objective in both environments, chunk by chunk."""
    names = list(objectives)
    rewards = np.stack([objectives[k] for k in names])
    parts: dict[str, list[np.ndarray]] = {e: [] for e in ENVIRONMENTS}
    for idx in members_in_chunks(cls):
        tables = dict(zip(ENVIRONMENTS, cls.tables(idx), strict=True))
        for e in ENVIRONMENTS:
            parts[e].append(returns_many(world.environment(e), rewards, tables[e]))
    values = {}
    for e in ENVIRONMENTS:
        stacked = np.concatenate(parts[e])  # [N, M]
        for j, name in enumerate(names):
            values[e, name] = stacked[:, j]
    return MemberReturns(values)


def regrets(
    values: Float[np.ndarray, " N"], tol: Tolerances | None = None, random: float | None = None
) -> Float[np.ndarray, " N"]:
    """Normalised regret of each member within the class, by the tolerances' normaliser
    (the class's range by default; ``random`` is the uniformly random policy's return)."""
    best, worst = float(values.max()), float(values.min())
    floor = worst if tol is None else tol.floor(best, worst, worst if random is None else random)
    if all_tie(best, worst) or all_tie(best, floor):
        return np.zeros_like(values)
    return np.clip((best - values) / (best - floor), 0.0, 1.0)


def optimal_members(
    values: Float[np.ndarray, " N"],
    epsilon: float,
    tol: Tolerances | None = None,
    random: float | None = None,
) -> Bool[np.ndarray, " N"]:
    """Opt: the members whose normalised regret is ≤ ε."""
    return regrets(values, tol, random) <= epsilon


def mixture_values(j: MemberReturns, objective: str, share: float) -> Float[np.ndarray, " N"]:
    return (1.0 - share) * j["train", objective] + share * j["deploy", objective]


def envelope_bends(train: Float[np.ndarray, " N"], deploy: Float[np.ndarray, " N"]) -> list[float]:
    """0, the λ in (0, 1) where the upper envelope of (1 − λ)·train + λ·deploy bends, and 1."""
    lines = np.unique(np.stack([train, deploy - train], axis=1), axis=0)  # intercept, slope
    bends = [0.0]
    at = 0.0
    value = lines[:, 0] + at * lines[:, 1]
    current = np.lexsort((lines[:, 1], value))[-1]  # highest at 0, steepest among ties
    while True:
        a0, s0 = lines[current]
        steeper = lines[:, 1] > s0
        if not steeper.any():
            break
        cross = (a0 - lines[steeper, 0]) / (lines[steeper, 1] - s0)
        ahead = cross > at + 1e-15
        if not ahead.any():
            break
        candidates = np.flatnonzero(steeper)[ahead]
        cross = cross[ahead]
        nxt = float(cross.min())
        if nxt >= 1.0:
            break
        tied = candidates[cross <= nxt + 1e-15]
        current = tied[np.argmax(lines[tied, 1])]
        at = nxt
        bends.append(at)
    bends.append(1.0)
    return bends


def envelope(
    train: Float[np.ndarray, " N"], deploy: Float[np.ndarray, " N"], *, upper: bool
) -> Envelope:
    """The upper (or lower) envelope of the members' lines λ ↦ (1 − λ)·train + λ·deploy,
    keeping only the lines that reach it: the highest (lowest) at each bend and between."""
    sign = 1.0 if upper else -1.0
    a, b = sign * train, sign * deploy
    bends = envelope_bends(a, b)
    points = sorted({*bends, *(0.5 * (lo + hi) for lo, hi in itertools.pairwise(bends))})
    keep = {int(np.argmax((1.0 - x) * a + x * b)) for x in points}
    return Envelope(tuple((float(train[i]), float(deploy[i])) for i in sorted(keep)), upper)


def share_profile(
    j: MemberReturns,
    deploy_intended_regret: Float[np.ndarray, " N"],
    tol: Tolerances,
    random: Returns,
) -> ShareProfile:
    """The regret range over Opt(λ, R) at each vertex and between vertices (``random``: the
    uniformly random policy's returns, for the "random" normaliser). Opt(λ, R) can change
    only where the best or the worst mixture return bends, or where a member's line
    crosses an ε-threshold line (`optimality_thresholds`): those are the vertices."""
    train, deploy = j["train", "base"], j["deploy", "base"]
    upper = envelope(train, deploy, upper=True)
    lower = envelope(train, deploy, upper=False)
    random_line = (random.train_base, random.deploy_base)
    vertices = {*envelope_bends(train, deploy), *envelope_bends(-train, -deploy)}
    for a0, a1 in optimality_thresholds(upper.lines, lower.lines, random_line, tol):
        d0, d1 = train - a0, deploy - a1
        inside = d0 * d1 < 0  # the member's line crosses the threshold inside (0, 1)
        vertices.update((d0[inside] / (d0[inside] - d1[inside])).tolist())
    bends = sorted(v + 0.0 for v in vertices if 0.0 <= v <= 1.0)

    def over(share: float) -> Range:
        values = mixture_values(j, "base", share)
        floor_random = mix(random.train_base, random.deploy_base, share)
        regret = deploy_intended_regret[optimal_members(values, tol.epsilon, tol, floor_random)]
        return Range.exact_range(float(regret.min()), float(regret.max()))

    return ShareProfile(
        tuple(bends),
        tuple(over(b) for b in bends),
        tuple(over(0.5 * (lo + hi)) for lo, hi in itertools.pairwise(bends)),
    )


def aligned_share_set(profile: ShareProfile, tol: Tolerances) -> ShareSet:
    """The λ ∈ [0, 1] for which every member of Opt(λ, R) has deployment regret ≤ τ."""
    return share_set(
        profile.vertices,
        [r.max <= tol.tau for r in profile.at_vertices],
        [r.max <= tol.tau for r in profile.on_segments],
    )


def analyze_enumerated(
    world: World,
    cls: EnumeratedClass,
    tolerances: Tolerances | None = None,
    *,
    cache: SolveCache | None = None,
) -> tuple[WorldAnalysis, MemberReturns]:
    """The objective-level analysis over an enumerated class, and every member's returns."""
    tol = tolerances or Tolerances(deploy_share=world.deploy_share)
    objectives = {"base": world.base, "intended": world.intended, **world.goals}
    j = member_returns(world, cls, objectives)
    random = uniform_returns(world, cache)
    reg = {
        (e, o): regrets(j[e, o], tol, random.get(e, o))
        for e in ENVIRONMENTS
        for o in ("base", "intended")
    }
    eps, share = tol.epsilon, tol.deploy_share
    opt_train = optimal_members(j["train", "base"], eps, tol, random.train_base)
    opt_deploy = optimal_members(j["deploy", "base"], eps, tol, random.deploy_base)
    mixed_random = mix(random.train_base, random.deploy_base, share)
    opt_mixed = optimal_members(mixture_values(j, "base", share), eps, tol, mixed_random)

    def over(members: np.ndarray, key: tuple[str, str]) -> Range:
        values = reg[key][members]
        return Range.exact_range(float(values.min()), float(values.max()))

    def table(pick: str) -> Returns:
        f = np.max if pick == "max" else np.min
        return Returns(
            **{f"{e}_{o}": float(f(j[e, o])) for e in ENVIRONMENTS for o in ("base", "intended")}
        )

    profile = share_profile(j, reg["deploy", "intended"], tol, random)
    rand = uniform_goal_returns(world, cache)
    analysis = WorldAnalysis(
        world=world.name,
        policy_class=f"enumerated: {cls.name} ({cls.size} members)",
        tolerances=tol,
        optimum=table("max"),
        worst=table("min"),
        random=random,
        optimal_sets={
            "train_base": {
                "deploy_intended_regret": over(opt_train, ("deploy", "intended")),
                "deploy_base_regret": over(opt_train, ("deploy", "base")),
                "train_intended_regret": over(opt_train, ("train", "intended")),
            },
            "deploy_base": {"deploy_intended_regret": over(opt_deploy, ("deploy", "intended"))},
            "mixture_base": {"deploy_intended_regret": over(opt_mixed, ("deploy", "intended"))},
        },
        outer_aligned_shares=aligned_share_set(profile, tol),
        undetermined_shares=ShareSet(()),
        goals={
            g: GoalRange(
                float(j["deploy", g].max()), float(j["deploy", g].min()), rand["deploy", g]
            )
            for g in world.goals
        },
        train_goals={
            g: GoalRange(float(j["train", g].max()), float(j["train", g].min()), rand["train", g])
            for g in world.goals
        },
        shared_dynamics=world.shared_dynamics,
        share_profile=profile,
        mixture=MixtureExtremes.exact(
            envelope(j["train", "base"], j["deploy", "base"], upper=True),
            envelope(j["train", "base"], j["deploy", "base"], upper=False),
        ),
    )
    return analysis, j


def class_extremes(world: World, cls: EnumeratedClass):
    """Best and worst return of any reward over the class's members."""

    def extremes(env: str, reward: np.ndarray) -> tuple[float, float]:
        values = member_returns(world, cls, {"m": reward})[env, "m"]
        return float(values.max()), float(values.min())

    return extremes


def uniform_goal_returns(
    world: World, cache: SolveCache | None = None
) -> dict[tuple[str, str], float]:
    """Returns of the uniformly random policy at every goal, per environment."""
    cache = cache or SolveCache()
    uniform = np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
    return {
        (e, g): cache.evaluate(world.environment(e), r, uniform).value
        for e in ENVIRONMENTS
        for g, r in world.goals.items()
    }


def uniform_returns(world: World, cache: SolveCache | None = None) -> Returns:
    """Returns of the uniformly random policy."""
    cache = cache or SolveCache()
    uniform = np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
    return Returns(
        **{
            f"{e}_{o}": cache.evaluate(world.environment(e), world.objective(o), uniform).value
            for e in ENVIRONMENTS
            for o in ("base", "intended")
        }
    )
