"""The frozen records of exact numbers that solvers produce and lenses read (DESIGN §2).

`Range` and `ShareSet` are the value types: the extremes of a quantity over a set of
policies, and a set of deployment shares λ. `WorldAnalysis` holds the objective-level
part: what the world's objectives and the policy class imply before any policy is
learned (class optima, worst values, the uniformly random policy, and the range of each
regret over each optimal set).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from alignlens.tolerances import Tolerances

OBJECTIVES = ("base", "intended")


@dataclass(frozen=True)
class Range:
    """The min and max of a quantity over a set of policies.

    ``min_bounds`` and ``max_bounds`` bracket each extreme; they collapse to the value
    itself when it is exact. When inexact, ``min`` and ``max`` are the values of real
    members (the witness side of each bracket).
    """

    min: float
    max: float
    min_bounds: tuple[float, float]
    max_bounds: tuple[float, float]

    @classmethod
    def exact_range(cls, low: float, high: float) -> Range:
        return cls(low, high, (low, low), (high, high))

    @property
    def exact(self) -> bool:
        return self.min_bounds[0] == self.min_bounds[1] and self.max_bounds[0] == self.max_bounds[1]

    @property
    def bounds(self) -> tuple[float, float]:
        """An interval that surely holds the quantity for every member of the set."""
        return (self.min_bounds[0], self.max_bounds[1])


@dataclass(frozen=True)
class Interval:
    """An interval of shares λ with open or closed ends."""

    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True

    def notation(self) -> str:
        if self.low == self.high:
            return f"{{{self.low:g}}}"
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class ShareSet:
    """A subset of [0, 1] as disjoint intervals, in order."""

    intervals: tuple[Interval, ...]

    def notation(self) -> str:
        return " ∪ ".join(i.notation() for i in self.intervals) if self.intervals else "∅"

    def contains(self, share: float) -> bool:
        return any(
            (i.low < share < i.high)
            or (share == i.low and i.low_closed)
            or (share == i.high and i.high_closed)
            for i in self.intervals
        )


@dataclass(frozen=True)
class Returns:
    """A return for each environment and objective."""

    train_base: float
    train_intended: float
    deploy_base: float
    deploy_intended: float

    def get(self, env: str, objective: str) -> float:
        return float(getattr(self, f"{env}_{objective}"))

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {e: {o: self.get(e, o) for o in OBJECTIVES} for e in ("train", "deploy")}


@dataclass(frozen=True)
class GoalRange:
    """Best and worst deployment return of a candidate goal over the policy class."""

    best: float
    worst: float


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(
        {k: _frozen(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}
    )


@dataclass(frozen=True)
class WorldAnalysis:
    """Everything about a world that does not depend on a learned policy.

    Attributes:
        world: the world's name.
        policy_class: "tabular" (the class the extremes range over).
        tolerances: ε, τ, κ and λ used.
        optimum, worst: V* and W of each environment and objective over the class.
        random: returns of the uniformly random policy.
        optimal_sets: for "train_base", "deploy_base" and "mixture_base" (Opt(train, R),
            Opt(deploy, R), Opt(λ, R)), the range of each normalised regret over the set.
        outer_aligned_shares: the λ in [0, 1] for which every policy of Opt(λ, R) is
            aligned in deployment (reg^deploy_U ≤ τ).
        undetermined_shares: the λ for which that could not be decided exactly.
        goals: deployment best and worst of each candidate goal.
        shared_dynamics: whether the environments agree on every state they share.
    """

    world: str
    policy_class: str
    tolerances: Tolerances
    optimum: Returns
    worst: Returns
    random: Returns
    optimal_sets: Mapping[str, Mapping[str, Range]]
    outer_aligned_shares: ShareSet
    undetermined_shares: ShareSet
    goals: Mapping[str, GoalRange] = field(default_factory=dict)
    shared_dynamics: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "optimal_sets", _frozen(self.optimal_sets))
        object.__setattr__(self, "goals", _frozen(self.goals))
