"""Exact computation on tabular worlds: evaluation, optima, optimal sets and their extremes.

The names load on first use (`alignlens.facade`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alignlens.facade import lazy_names

if TYPE_CHECKING:
    from alignlens.analysis import all_tie, normalized_regret
    from alignlens.solve.cache import SolveCache
    from alignlens.solve.exact.analyze import analyze_world, regret_range
    from alignlens.solve.exact.enumerated import analyze_enumerated
    from alignlens.solve.exact.evaluation import Evaluation, evaluate
    from alignlens.solve.exact.extremes import (
        extreme_member,
        restricted_extreme,
        return_range,
        tied_choices,
    )
    from alignlens.solve.exact.many_policies import evaluate_many, returns_many
    from alignlens.solve.exact.mixture import mixture, share_set, tabular_share_set
    from alignlens.solve.exact.optimal_set import OptimalSet, optimal_actions, optimal_set
    from alignlens.solve.exact.optimum import Optimum, optimize
    from alignlens.solve.exact.reachability import reachable, unavoidable
    from alignlens.solve.exact.value_iteration import ValueIterationResult, value_iteration

_WHERE = {
    "Evaluation": "alignlens.solve.exact.evaluation",
    "OptimalSet": "alignlens.solve.exact.optimal_set",
    "Optimum": "alignlens.solve.exact.optimum",
    "SolveCache": "alignlens.solve.cache",
    "ValueIterationResult": "alignlens.solve.exact.value_iteration",
    "all_tie": "alignlens.analysis",
    "analyze_enumerated": "alignlens.solve.exact.enumerated",
    "analyze_world": "alignlens.solve.exact.analyze",
    "evaluate": "alignlens.solve.exact.evaluation",
    "evaluate_many": "alignlens.solve.exact.many_policies",
    "extreme_member": "alignlens.solve.exact.extremes",
    "mixture": "alignlens.solve.exact.mixture",
    "normalized_regret": "alignlens.analysis",
    "optimal_actions": "alignlens.solve.exact.optimal_set",
    "optimal_set": "alignlens.solve.exact.optimal_set",
    "optimize": "alignlens.solve.exact.optimum",
    "reachable": "alignlens.solve.exact.reachability",
    "regret_range": "alignlens.solve.exact.analyze",
    "restricted_extreme": "alignlens.solve.exact.extremes",
    "return_range": "alignlens.solve.exact.extremes",
    "returns_many": "alignlens.solve.exact.many_policies",
    "share_set": "alignlens.solve.exact.mixture",
    "tabular_share_set": "alignlens.solve.exact.mixture",
    "tied_choices": "alignlens.solve.exact.extremes",
    "unavoidable": "alignlens.solve.exact.reachability",
    "value_iteration": "alignlens.solve.exact.value_iteration",
}

__all__ = [
    "Evaluation",
    "OptimalSet",
    "Optimum",
    "SolveCache",
    "ValueIterationResult",
    "all_tie",
    "analyze_enumerated",
    "analyze_world",
    "evaluate",
    "evaluate_many",
    "extreme_member",
    "mixture",
    "normalized_regret",
    "optimal_actions",
    "optimal_set",
    "optimize",
    "reachable",
    "regret_range",
    "restricted_extreme",
    "return_range",
    "returns_many",
    "share_set",
    "tabular_share_set",
    "tied_choices",
    "unavoidable",
    "value_iteration",
]
__getattr__, __dir__ = lazy_names(globals(), _WHERE)
