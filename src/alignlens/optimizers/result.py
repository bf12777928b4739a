"""What an imperfect optimiser returns: the learned policy and a trace of its training."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from jaxtyping import Float, Int

from alignlens.policies.tabular import TabularPolicy

TRACE_KEYS = ("train_base", "train_intended", "deploy_base", "deploy_intended")


@dataclass(frozen=True, eq=False)
class Trace:
    """Exact returns of the policy being trained, per recorded step.

    Attributes:
        step: the step (or generation) of each record.
        returns: "train_base", "train_intended", "deploy_base", "deploy_intended" (and any
            goal, as "deploy_<goal>") → one return per record.
    """

    step: Int[np.ndarray, " T"]
    returns: Mapping[str, Float[np.ndarray, " T"]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "returns", MappingProxyType(dict(self.returns)))


@dataclass(frozen=True, eq=False)
class Population:
    """The make-up of an evolved population: member indices present, and their counts."""

    members: Int[np.ndarray, " k"]
    counts: Int[np.ndarray, " k"]


@dataclass(frozen=True, eq=False)
class TrainingResult:
    """A learned policy, the optimiser and seed that produced it, and its trace (and, for
    evolution, the final population)."""

    policy: TabularPolicy
    optimizer: str
    seed: int
    trace: Trace
    population: Population | None = None
