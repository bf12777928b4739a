"""The lenses: one definition each, a small pure function from an Analysis to a Verdict."""

from __future__ import annotations

from collections.abc import Callable

from alignlens.analysis import Analysis
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
    """Every lens's verdict on one analysis, in the order of docs/lenses.md."""
    return {name: lens(analysis) for name, lens in LENSES.items()}


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
