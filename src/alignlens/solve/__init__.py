"""Exact computation on tabular worlds: evaluation, optima, optimal sets and their extremes."""

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
from alignlens.solve.exact.optimal_set import (
    OptimalSet,
    optimal_actions,
    optimal_set,
)
from alignlens.solve.exact.optimum import Optimum, optimize
from alignlens.solve.exact.reachability import reachable, unavoidable
from alignlens.solve.exact.value_iteration import ValueIterationResult, value_iteration

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
