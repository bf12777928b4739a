"""Verdicts and the conditions behind them: the vocabulary every lens shares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import NamedTuple

from alignlens.analysis import Range


class Category(StrEnum):
    """Where a lens puts a failure (docs/lenses.md); the values are the JSON names."""

    ALIGNED = "aligned"
    OUTER = "outer"
    INNER = "inner"
    ROBUSTNESS = "robustness"
    OPTIMIZATION = "optimization"
    HACKED = "hacked"
    CAPABILITY_ROBUSTNESS = "capability_robustness"
    OBJECTIVE_ROBUSTNESS = "objective_robustness"


UNDEFINED = float("nan")
"""The value of a condition on a number that is undefined (competence at an objective on
which every policy ties); such a condition never holds."""


class Condition(NamedTuple):
    """One tested condition: the number, the threshold, and whether it holds.

    ``holds`` is None when the number is only bracketed and the threshold falls inside
    the bracket (the condition is then "undetermined"). ``value`` is `UNDEFINED` (NaN)
    when the number does not exist (shown as "undefined"; null in JSON). A named tuple:
    a sweep builds some thirty of them for every world.
    """

    holds: bool | None
    value: float
    threshold: float
    comparison: str = "<="

    @property
    def fails(self) -> bool:
        """Holds is False, or undetermined (a decision must not rest on it holding)."""
        return self.holds is not True


def at_most(value: float, threshold: float) -> Condition:
    return Condition(value <= threshold, value, threshold, "<=")


def at_least(value: float, threshold: float) -> Condition:
    return Condition(value >= threshold, value, threshold, ">=")


def all_at_most(quantity: Range, threshold: float) -> Condition:
    """Every member of a set has the quantity ≤ threshold (decided on its max's bracket)."""
    low, high = quantity.max_bounds
    holds = True if high <= threshold else (False if low > threshold else None)
    return Condition(holds, quantity.max, threshold, "<=")


def some_at_most(quantity: Range, threshold: float) -> Condition:
    """Some member of a set has the quantity ≤ threshold (decided on its min's bracket)."""
    low, high = quantity.min_bounds
    holds = True if high <= threshold else (False if low > threshold else None)
    return Condition(holds, quantity.min, threshold, "<=")


@dataclass(frozen=True)
class Verdict:
    """A lens's judgement of one learned policy.

    Attributes:
        lens: the lens's name.
        category: where it puts the failure (ALIGNED when there is none).
        reason: one plain sentence naming the cause, in the lens's own words.
        conditions: every condition the lens computed, by name.
        flags: further findings (e.g. "outer alignment also fails").
        goal: the goal an objective-robustness failure pursues, when there is one.
        basis: the conditions the category rests on, in the order the lens read them
            (`decisive` gives every condition when a lens names none).
    """

    lens: str
    category: Category
    reason: str
    conditions: Mapping[str, Condition]
    flags: tuple[str, ...] = ()
    goal: str | None = None
    basis: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "conditions", MappingProxyType(dict(self.conditions)))

    @property
    def decisive(self) -> tuple[str, ...]:
        """The names of the conditions the category rests on."""
        return self.basis or tuple(self.conditions)


def aligned_verdict(
    lens: str, conditions: Mapping[str, Condition], flags: tuple[str, ...]
) -> Verdict:
    """The verdict of every lens on a policy that does what we want in deployment."""
    reason = "The policy does what we want in deployment."
    return Verdict(lens, Category.ALIGNED, reason, conditions, flags, basis=("aligned",))


def undetermined_flags(conditions: Mapping[str, Condition]) -> tuple[str, ...]:
    return tuple(f"{name} undetermined" for name, c in conditions.items() if c.holds is None)
