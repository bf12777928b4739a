"""Verdicts as functions of the deployment share λ.

Hubinger's lens (and the 2-D lens, which borrows its conditions) reads both outer_H and
inner_H on the lifetime mixture, so its verdict can change with λ. Both conditions are
piecewise constant in λ: Opt(λ, R) changes only at the vertices of the share profile, and
reg^λ_R(π̂) ≤ ε can change only where the policy's line λ ↦ J^λ_R(π̂) meets a line
(1 − ε)·V + ε·W of the class's mixture extremes, or where one of those envelopes bends.
Every lens is evaluated at each such breakpoint and once between consecutive ones, so the
pieces below are exact.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from alignlens.analysis import Analysis, Interval, ShareSet, optimality_thresholds
from alignlens.lenses.verdict import Category, Verdict

T = TypeVar("T")


@dataclass(frozen=True)
class SharePiece:
    """One piece of a verdict as a function of λ: the shares and the category there."""

    shares: Interval
    category: Category


def at_share(a: Analysis, share: float) -> Analysis:
    """The same analysis read at deployment share λ = ``share`` (the policy and the
    optimal sets of training and deployment do not depend on λ; Opt(λ, R) does)."""
    objectives = a.objectives
    profile = objectives.share_profile
    if profile is None:
        raise ValueError("the regret over Opt(λ, R) is not known for every λ in this class")
    sets = {k: dict(v) for k, v in objectives.optimal_sets.items()}
    sets["mixture_base"]["deploy_intended_regret"] = profile.at(share)
    tolerances = replace(objectives.tolerances, deploy_share=share)
    return replace(a, objectives=replace(objectives, tolerances=tolerances, optimal_sets=sets))


def breakpoints(a: Analysis) -> tuple[tuple[float, ...], frozenset[float]]:
    """0, every λ in (0, 1) where a λ-dependent condition may change, and 1; and those of
    them that are only crossings of the policy's line with an optimality threshold (there
    reg^λ_R(π̂) = ε exactly, so inner_H holds, and nothing else changes)."""
    o = a.objectives
    m = o.mixture_extremes
    policy = (a.returns.train_base, a.returns.deploy_base)
    best = {line for e in m.best for line in e.lines}
    worst = {line for e in m.worst for line in e.lines}
    random = (o.random.train_base, o.random.deploy_base)
    thresholds = optimality_thresholds(best, worst, random, a.tolerances)
    crossings = {_crossing(policy, threshold) for threshold in thresholds}
    others: set[float] = {0.0, 1.0}
    for lines in (best, worst):
        others.update(_crossing(x, y) for x, y in itertools.combinations(lines, 2))
    profile = a.objectives.share_profile
    if profile is not None:
        others.update(profile.vertices)
    inside = {r + 0.0 for r in crossings | others if 0.0 <= r <= 1.0}  # no -0.0
    return tuple(sorted(inside)), frozenset(inside - others)


def _crossing(x: tuple[float, float], y: tuple[float, float]) -> float:
    """The λ at which two mixture lines cross (NaN when they do not)."""
    d0, d1 = x[0] - y[0], x[1] - y[1]
    return d0 / (d0 - d1) if d0 != d1 else float("nan")


def pieces(
    vertices: Iterable[float],
    value: Callable[[float], T],
    *,
    like_side: Callable[[float, float, float], float] | None = None,
) -> list[tuple[Interval, T]]:
    """A function of λ that is constant between consecutive ``vertices`` (and may differ
    at them), as maximal intervals of equal value. ``like_side(low, vertex, high)`` may name
    a point whose value a vertex shares (one side of it), instead of evaluating at it."""
    vs = list(vertices)
    points: list[tuple[float, float]] = []
    for lo, hi in itertools.pairwise(vs):
        points += [(lo, lo), (lo, hi)]
    points.append((vs[-1], vs[-1]))
    out: list[tuple[Interval, T]] = []
    for k, (lo, hi) in enumerate(points):
        if lo != hi:
            at = 0.5 * (lo + hi)
        elif like_side is not None and 0 < k < len(points) - 1:
            at = like_side(points[k - 1][0], lo, points[k + 1][1])
        else:
            at = lo
        v = value(at)
        if out and out[-1][1] == v:
            first = out[-1][0]
            out[-1] = (Interval(first.low, hi, first.low_closed, lo == hi), v)
        else:
            closed = lo == hi
            out.append((Interval(lo, hi, closed, closed), v))
    return out


def _optimal_on_mixture(a: Analysis, share: float) -> bool:
    return a.mixture_regret(share).max_bounds[1] <= a.tolerances.epsilon


def _side_of_crossings(a: Analysis, crossings: frozenset[float]):
    """At a crossing, the point on the side where the policy is optimal on the mixture:
    the crossing shares every condition's value with it (round-off at the crossing itself
    would otherwise decide whether an end of an interval is open or closed)."""

    def like_side(low: float, vertex: float, high: float) -> float:
        if vertex not in crossings:
            return vertex
        for side in (0.5 * (low + vertex), 0.5 * (vertex + high)):
            if _optimal_on_mixture(a, side):
                return side
        return vertex

    return like_side


def inner_shares(a: Analysis) -> ShareSet:
    """The λ ∈ [0, 1] for which the policy is surely optimal on the mixture (inner_H)."""

    vertices, crossings = breakpoints(a)

    def holds(share: float) -> bool:
        return _optimal_on_mixture(a, share)

    found = pieces(vertices, holds, like_side=_side_of_crossings(a, crossings))
    return ShareSet(tuple(i for i, v in found if v))


def verdicts_by_share(
    a: Analysis, lenses: Mapping[str, Callable[[Analysis], Verdict]]
) -> dict[str, list[SharePiece]]:
    """Each lens's category as a function of λ ∈ [0, 1] (empty when the regret over
    Opt(λ, R) is not known for every λ: the tabular class under a dynamics shift)."""
    if a.objectives.share_profile is None:
        return {}
    vertices, crossings = breakpoints(a)
    like_side = _side_of_crossings(a, crossings)
    cache: dict[float, Analysis] = {}

    def category(lens: Callable[[Analysis], Verdict]) -> Callable[[float], Category]:
        def at(share: float) -> Category:
            if share not in cache:
                cache[share] = at_share(a, share)
            return lens(cache[share]).category

        return at

    return {
        name: [SharePiece(i, c) for i, c in pieces(vertices, category(lens), like_side=like_side)]
        for name, lens in lenses.items()
    }


def pieces_notation(pieces_: Iterable[SharePiece]) -> str:
    """E.g. "outer for λ ∈ [0, 0.6], inner for λ ∈ (0.6, 1]"."""
    return ", ".join(f"{p.category} for λ ∈ {p.shares.notation()}" for p in pieces_)


__all__ = [
    "SharePiece",
    "at_share",
    "breakpoints",
    "inner_shares",
    "pieces",
    "pieces_notation",
    "verdicts_by_share",
]
