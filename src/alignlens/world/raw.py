"""The uncompiled world: names, transition rows and reward arrays, as a file describes them.

Both file forms (tabular and gridworld) and Python code produce a `RawWorld`;
`alignlens.world.assemble.assemble` validates it and compiles it to a `World`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.world.model import GridLayout


@dataclass(frozen=True, eq=False)
class RawTransitions:
    """Transition rows (state, action, next state, probability), as index arrays."""

    state: Int[np.ndarray, " T"]
    action: Int[np.ndarray, " T"]
    next_state: Int[np.ndarray, " T"]
    prob: Float[np.ndarray, " T"]


@dataclass(frozen=True, eq=False)
class RawEnvironment:
    """One environment before validation.

    Attributes:
        field: where it sits in the file ("train", "deploy"), for error messages.
        start: start probabilities over base states.
        transitions: every defined transition row.
        terminal: states where the episode ends.
    """

    field: str
    start: Float[np.ndarray, " B"]
    transitions: RawTransitions
    terminal: Bool[np.ndarray, " B"]


@dataclass(frozen=True, eq=False)
class RawWorld:
    """A world as written: everything `World` needs, before validation and compilation."""

    name: str
    states: tuple[str, ...]
    actions: tuple[str, ...]
    observations: tuple[str, ...]
    discount: float
    horizon: int | None
    deploy_share: float
    train: RawEnvironment
    deploy: RawEnvironment
    base: Float[np.ndarray, "B A"]
    intended: Float[np.ndarray, "B A"]
    goals: Mapping[str, Float[np.ndarray, "B A"]]
    source: str = "<python>"
    objective_field: str = "objectives"
    grid: GridLayout | None = field(default=None)
    policy_class: str = "tabular"
