"""The lenses: one definition each, a small pure function from an Analysis to a Verdict."""

from __future__ import annotations

import math
from collections.abc import Callable

from alignlens.analysis import Analysis
from alignlens.errors import SolverError
from alignlens.lenses.hubinger import hubinger
from alignlens.lenses.ngo import ngo
from alignlens.lenses.shah import shah
from alignlens.lenses.two_d import two_d
from alignlens.lenses.verdict import Category, Condition, Verdict
from alignlens.lenses.wentworth import wentworth

LENSES: dict[str, Callable[[Analysis], Verdict]] = {
    "wentworth": wentworth,
    "hubinger": hubinger,
    "ngo": ngo,
    "shah": shah,
    "two_d": two_d,
}


def apply_lenses(analysis: Analysis) -> dict[str, Verdict]:
    """Every lens's verdict on one analysis, in the order of docs/lenses.md; none from an
    analysis whose returns or regrets are not finite numbers (an overflow would make every
    regret 0 or 1 and every verdict wrong)."""
    _require_finite(analysis)
    return {name: lens(analysis) for name, lens in LENSES.items()}


def _require_finite(analysis: Analysis) -> None:
    numbers = {
        "optimum": analysis.objectives.optimum,
        "worst": analysis.objectives.worst,
        "returns": analysis.returns,
        "regret": analysis.regret,
    }
    for name, values in numbers.items():
        for env, row in values.as_dict().items():
            for objective, value in row.items():
                if not math.isfinite(value):
                    raise SolverError(
                        f"the {name} of {objective} in {env} is {value}: the world's numbers "
                        "overflow, and no verdict can be read from them",
                        field="objectives",
                        fix="rescale the rewards so that returns stay well within ±1e100",
                    )


__all__ = [
    "LENSES",
    "Category",
    "Condition",
    "Verdict",
    "apply_lenses",
    "hubinger",
    "ngo",
    "shah",
    "two_d",
    "wentworth",
]
