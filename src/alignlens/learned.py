"""What an optimiser hands on: the learned policy, the trace of its training, and a sample
of independent runs (records only: plain data that the analysis and the reports read)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.analysis import HackEvidence, WorldAnalysis
from alignlens.policies.tabular import TabularPolicy
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.enumerated import MemberReturns

TRACE_KEYS = ("train_base", "train_intended", "deploy_base", "deploy_intended")
MAKE_UP_LIMIT = 4096


@dataclass(frozen=True, eq=False)
class Trace:
    """Exact returns of the policy being trained, per recorded step.

    Attributes:
        step: the step (or generation) of each record.
        returns: "train_base", "train_intended", "deploy_base", "deploy_intended" → one
            exact return per record; where the optimiser records them, also
            "train_goal:G" and "deploy_goal:G" for each candidate goal G.
        make_up: for evolution over a class of at most `MAKE_UP_LIMIT` members, how many
            individuals carry each member at each record ([T, members]); else None.
    """

    step: Int[np.ndarray, " T"]
    returns: Mapping[str, Float[np.ndarray, " T"]]
    make_up: Int[np.ndarray, "T C"] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "returns", MappingProxyType(dict(self.returns)))

    def regrets(self, objectives: WorldAnalysis) -> dict[str, Float[np.ndarray, " T"]]:
        """Normalised regrets under R and U per record, as an objective-level analysis
        normalises them (e.g. a diagnosis's `analysis.objectives`)."""
        out = {}
        for key in TRACE_KEYS:
            values = self.returns[key]
            env, objective = key.split("_", 1)
            out[key] = np.array([objectives.regret(env, objective, float(v)) for v in values])
        return out


@dataclass(frozen=True, eq=False)
class Population:
    """The make-up of an evolved population: member indices present, and their counts."""

    members: Int[np.ndarray, " k"]
    counts: Int[np.ndarray, " k"]


@dataclass(frozen=True, eq=False)
class ExhaustiveResult:
    """The optimal set and the representative the tie-break picked.

    Attributes:
        policy: the representative (a member of Opt(train, R)).
        tie_break: the rule that picked it, as declared.
        objectives: the objective-level analysis of the class (reusable for diagnosis).
        optimal: for an enumerated class, which members are in Opt(train, R); else None.
        index: for an enumerated class, the representative's index; else None.
        returns: for an enumerated class, every member's returns; else None.
        cache: the solutions the search computed, for the diagnosis of the same world.
    """

    policy: TabularPolicy
    tie_break: str
    objectives: WorldAnalysis
    optimal: Bool[np.ndarray, " N"] | None = None
    index: int | None = None
    returns: MemberReturns | None = None
    cache: SolveCache = field(default_factory=SolveCache, repr=False)


@dataclass(frozen=True, eq=False)
class Learned:
    """What an optimiser returns: the learned policy, the optimiser and seed (its key) that
    produced it, and its training trace (None for exhaustive search, which does not
    train); for evolution the final population; with an inner optimiser that could steer
    the search, the hack evidence the optimiser recorded; for exhaustive search the
    search itself (the optimal set and the solutions the diagnosis of the world reuses)."""

    policy: TabularPolicy
    optimizer: str
    seed: int
    trace: Trace | None
    population: Population | None = None
    hack: HackEvidence | None = None
    search: ExhaustiveResult | None = None


@dataclass(frozen=True, eq=False)
class Runs:
    """Independent runs of one optimiser on one world, one per seed: a sample of what the
    optimiser finds in a class too large to enumerate.

    Attributes:
        policy_class: the class searched (e.g. "neural (mlp 64×64, PPO 98304 steps)").
        results: one training result per seed, in seed order.
    """

    policy_class: str
    results: tuple[Learned, ...]
