"""The JSON document that ``--json`` prints (docs/model.md), built from analysis records
(no computation here)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from alignlens.analysis import (
    OBJECTIVES,
    Analysis,
    GoalRange,
    OuterSample,
    Range,
    ShareSet,
    WorldAnalysis,
)
from alignlens.confidence import LEVEL, runs_needed
from alignlens.lenses.disagreement import Disagreement
from alignlens.lenses.registry import Registered
from alignlens.lenses.shares import SharePiece, inner_shares
from alignlens.lenses.verdict import Condition, Verdict
from alignlens.tolerances import Tolerances
from alignlens.world.model import ENVIRONMENTS

if TYPE_CHECKING:
    from alignlens.diagnosis import Diagnosis
    from alignlens.sensitivity import Strip
    from alignlens.verdict_range import VerdictRange


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
    """The policy-independent part of the JSON document (what `alignlens analyze` prints)."""
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
        "normaliser": {
            "name": analysis.tolerances.normaliser,
            "divisor": {  # V* − floor: what a regret V* − J is divided by
                env: {
                    o: _number(analysis.optimum.get(env, o) - analysis.floor(env, o))
                    for o in OBJECTIVES
                }
                for env in ENVIRONMENTS
            },
        },
        "optimal_sets": sets,
        "goals": {
            name: {
                **(
                    {"train": _extremes(analysis.train_goals[name])}
                    if name in analysis.train_goals
                    else {}
                ),
                "deploy": _extremes(g),
            }
            for name, g in analysis.goals.items()
        },
    }


def _extremes(g: GoalRange) -> dict[str, float]:
    return {"optimum": _number(g.best), "worst": _number(g.worst)}


def _returns(table: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    return {env: {k: _number(v) for k, v in row.items()} for env, row in table.items()}


def condition_document(c: Condition) -> dict[str, Any]:
    holds: bool | str = "undetermined" if c.holds is None else bool(c.holds)
    return {
        "holds": holds,
        "value": None if math.isnan(c.value) else _number(c.value),
        "threshold": _number(c.threshold),
        "comparison": c.comparison,
    }


def verdict_document(v: Verdict) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "category": str(v.category),
        "reason": v.reason,
        "conditions": {name: condition_document(c) for name, c in v.conditions.items()},
        "flags": list(v.flags),
    }
    if v.goal is not None:
        doc["goal"] = v.goal
    doc["basis"] = list(v.decisive)
    return doc


def lens_document(entry: Registered) -> dict[str, Any]:
    """A lens's card, for `alignlens lenses --json`."""
    lens, card = entry.lens, entry.lens.card
    return {
        "name": lens.name,
        "label": lens.label,
        "title": card.title,
        "source": card.source,
        "quote": card.quote,
        "rule": card.rule,
        "categories": [str(c) for c in card.categories],
        "frame": card.frame,
        "origin": entry.origin,
    }


REQUESTED = (0.1, 0.05, 0.01)  # the bounds whose runs needed a sampled document lists


def outer_sample_document(sample: OuterSample, tolerances: Tolerances) -> dict[str, Any]:
    """The sampled estimate of outer alignment: each run's regrets, and which runs are
    fully optimised and which of those are witnesses (misaligned in deployment)."""
    return {
        "sampled": True,
        "policy_class": sample.policy_class,
        "exact_extremes_over": "the tabular class over the same observations, a superclass",
        "seeds": list(sample.seeds),
        "train_base_regret": [_number(x) for x in sample.train_base_regret],
        "deploy_intended_regret": [_number(x) for x in sample.deploy_intended_regret],
        "fully_optimised": list(sample.fully_optimised(tolerances.epsilon)),
        "witnesses": list(sample.witnesses(tolerances.epsilon, tolerances.tau)),
        "misaligned_share": {
            "level": LEVEL,
            "upper_bound": sample.misaligned_share(tolerances.epsilon, tolerances.tau),
            "fully_optimised_runs_needed": {f"{b:g}": runs_needed(b) for b in REQUESTED},
            "runs_needed": {f"{b:g}": sample.runs_needed(b, tolerances.epsilon) for b in REQUESTED},
        },
    }


def mixture_document(analysis: Analysis) -> dict[str, Any]:
    """The policy on the lifetime mixture at λ = the deployment share: its return of R, the
    class's best and worst there, its normalised regret, and the λ for which it is optimal."""
    share = analysis.tolerances.deploy_share
    m = analysis.objectives.mixture_extremes
    regret = analysis.mixture_regret()
    doc: dict[str, Any] = {
        "deploy_share": _number(share),
        "policy": _number(analysis.mixture_return()),
        "optimum": _number(m.best[1](share)),
        "worst": _number(m.worst[1](share)),
        "regret": _number(regret.max),
    }
    if not regret.exact:
        doc["exact"] = False
        doc["optimum_bounds"] = [_number(m.best[0](share)), _number(m.best[1](share))]
        doc["worst_bounds"] = [_number(m.worst[0](share)), _number(m.worst[1](share))]
        doc["regret_bounds"] = [_number(x) for x in regret.bounds]
    optimal = inner_shares(analysis)
    doc["optimal_shares"] = shares_document(optimal)
    doc["optimal_shares_notation"] = optimal.notation()
    return doc


def by_share_document(pieces: dict[str, list[SharePiece]]) -> dict[str, list[dict[str, Any]]]:
    """Each lens's category as a function of λ, piece by piece."""
    return {
        lens: [
            {
                "shares": [_number(p.shares.low), _number(p.shares.high)],
                "closed": [p.shares.low_closed, p.shares.high_closed],
                "notation": p.shares.notation(),
                "category": str(p.category),
            }
            for p in lens_pieces
        ]
        for lens, lens_pieces in pieces.items()
    }


def over_optimal_document(over: VerdictRange) -> dict[str, Any]:
    """Every lens's verdicts over Opt(train, R): how many members get each category."""
    return {
        "members": over.members,
        "diagnosed": over.diagnosed,
        "representative": over.rule,
        "verdicts": {lens: dict(counts) for lens, counts in over.counts.items()},
        "notation": {lens: over.notation(lens) for lens in over.counts},
    }


def document_of(diagnosis: Diagnosis, *, by_share: bool = True) -> dict[str, Any]:
    """The JSON document that ``--json`` prints for a diagnosis; ``by_share=False`` (as in
    sweep stores) leaves out each lens's verdict as a function of λ and the explanations of
    disagreements."""
    return diagnosis_document(
        diagnosis.analysis,
        dict(diagnosis.verdicts),
        diagnosis.by_share() if by_share else None,
        over_optimal=diagnosis.over_optimal,
        disagreements=diagnosis.disagreements() if by_share else (),
    )


def diagnosis_document(
    analysis: Analysis,
    verdicts: dict[str, Verdict],
    by_share: dict[str, list[SharePiece]] | None = None,
    *,
    over_optimal: VerdictRange | None = None,
    disagreements: Sequence[Disagreement] = (),
) -> dict[str, Any]:
    """The whole JSON document for one learned policy (with each lens's verdict as a
    function of λ when ``by_share`` is given, over Opt(train, R) when ``over_optimal``
    is, and why lenses disagree when ``disagreements`` are)."""
    doc = world_document(analysis.objectives)
    doc["optimizer"] = analysis.optimizer
    doc["policy_name"] = analysis.policy
    doc["policy"] = _returns(analysis.returns.as_dict())
    doc["regret"] = _returns(analysis.regret.as_dict())
    doc["absolute_regret"] = {  # V* − J, in the objective's own units
        env: {o: _number(o_best - analysis.returns.get(env, o)) for o, o_best in row.items()}
        for env, row in analysis.objectives.optimum.as_dict().items()
    }
    doc["mixture"] = mixture_document(analysis)
    goals = analysis.objectives.goals
    doc["competence"] = {  # null where undefined: every policy ties at the goal
        g: None if goals[g].degenerate else _number(v) for g, v in analysis.competence.items()
    }
    doc["attribution"] = {
        env: {k: None if v is None else _number(v) for k, v in row.items()}
        for env, row in analysis.attribution().items()
    }
    if analysis.mesa is not None:
        m = analysis.mesa
        doc["mesa"] = {
            "objective": m.objective,
            "equals_base": m.equals_base,
            "competence": None if m.degenerate else _number(m.competence),
            "degenerate": m.degenerate,
            "declared_by": "the policy" if m.holder is None else m.holder,
            "checked": m.holder is None,
        }
    if analysis.hack is not None:
        h = analysis.hack
        doc["hack"] = {
            "inner_optimizer": h.inner_optimizer,
            "inner_objective": _number(h.inner_objective),
            "inner_objective_at_optimum": _number(h.inner_objective_at_optimum),
            "counterfactual_regret": None
            if h.counterfactual_regret is None
            else _number(h.counterfactual_regret),
        }
    if analysis.outer_sample is not None:
        doc["outer_sample"] = outer_sample_document(analysis.outer_sample, analysis.tolerances)
    doc["verdicts"] = {name: verdict_document(v) for name, v in verdicts.items()}
    if by_share:
        doc["verdicts_by_share"] = by_share_document(by_share)
    if over_optimal is not None:
        doc["over_optimal_set"] = over_optimal_document(over_optimal)
    if disagreements:
        doc["disagreements"] = [
            {
                "lenses": list(d.lenses),
                "categories": list(d.categories),
                "conditions": {lens: list(names) for lens, names in d.conditions.items()},
                "explanation": d.explanation,
            }
            for d in disagreements
        ]
    return doc


def sensitivity_document(strips: Mapping[str, Strip]) -> dict[str, Any]:
    """Every lens's verdict as a function of each parameter (`alignlens sensitivity`)."""
    return {
        name: {
            "symbol": strip.symbol,
            "default": strip.default,
            "exact": strip.exact,
            "range": [strip.low, strip.high],
            "lenses": {
                lens: [
                    {
                        "low": _number(p.interval.low),
                        "high": _number(p.interval.high),
                        "closed": [p.interval.low_closed, p.interval.high_closed],
                        "notation": p.interval.notation(),
                        "category": p.category,
                    }
                    for p in found
                ]
                for lens, found in strip.pieces.items()
            },
            "flips_near_default": strip.flips_near_default(),
        }
        for name, strip in strips.items()
    }
