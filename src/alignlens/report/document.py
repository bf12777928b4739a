"""The JSON contract of DESIGN §7, built from analysis records (no computation here)."""

from __future__ import annotations

from typing import Any

from alignlens.analysis import Range, ShareSet, WorldAnalysis


def _number(x: float) -> float:
    return float(x) + 0.0  # no "-0.0" in documents


def range_document(r: Range) -> dict[str, Any]:
    """{"min", "max"}, plus "exact": false and the bounds when the range is bracketed."""
    doc: dict[str, Any] = {"min": _number(r.min), "max": _number(r.max)}
    if not r.exact:
        doc["exact"] = False
        doc["bounds"] = [_number(x) for x in r.bounds]
        doc["min_bounds"] = [_number(x) for x in r.min_bounds]
        doc["max_bounds"] = [_number(x) for x in r.max_bounds]
    return doc


def shares_document(shares: ShareSet) -> list[list[float]]:
    return [[_number(i.low), _number(i.high)] for i in shares.intervals]


def world_document(analysis: WorldAnalysis) -> dict[str, Any]:
    """The policy-independent part of the §7 document (what `alignlens analyze` prints)."""
    sets: dict[str, dict[str, Any]] = {
        name: {q: range_document(r) for q, r in ranges.items()}
        for name, ranges in analysis.optimal_sets.items()
    }
    mixture = sets["mixture_base"]
    mixture["outer_aligned_shares"] = shares_document(analysis.outer_aligned_shares)
    mixture["outer_aligned_shares_notation"] = analysis.outer_aligned_shares.notation()
    mixture["undetermined_shares"] = shares_document(analysis.undetermined_shares)
    return {
        "world": analysis.world,
        "policy_class": analysis.policy_class,
        "tolerances": analysis.tolerances.as_dict(),
        "shared_dynamics": analysis.shared_dynamics,
        "optimum": _returns(analysis.optimum.as_dict()),
        "worst": _returns(analysis.worst.as_dict()),
        "random": _returns(analysis.random.as_dict()),
        "optimal_sets": sets,
        "goals": {
            name: {"deploy": {"optimum": _number(g.best), "worst": _number(g.worst)}}
            for name, g in analysis.goals.items()
        },
    }


def _returns(table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {env: {k: _number(v) for k, v in row.items()} for env, row in table.items()}
