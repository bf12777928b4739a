"""The world file schema (docs/world-files.md) as Pydantic models (both forms: tabular,
gridworld).

These models check shapes and types only; meaning (names, probabilities, reachability)
is checked when the file is compiled, where the message can name the state at fault.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict


def _plain(value: Any) -> Any:
    """NumPy scalars (from Python callers) as the Python numbers they stand for."""
    return value.item() if isinstance(value, np.integer | np.floating) else value


# A number written as one: not "0.9", not true (NumPy numbers from Python are numbers).
Number = Annotated[float, BeforeValidator(_plain), Strict()]
Count = Annotated[int, BeforeValidator(_plain), Strict()]  # a whole number, likewise
Name = Annotated[str, Strict()]
Row3 = tuple[Name, Name, Number]
Row4 = tuple[Name, Name, Name, Number]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvironmentSpec(_Strict):
    """One environment of the tabular form."""

    start: dict[str, Number] = Field(description="start probability of each state")
    transitions: list[Row4] = Field(description="[state, action, next state, probability] rows")
    terminal: list[str] = Field(default=[], description="states where episodes end")


class ObjectivesSpec(_Strict):
    """Rewards r(s, a) of the tabular form; "*" as the action means every action."""

    base: list[Row3] = Field(default=[], description="R: [state, action, reward] rows")
    intended: list[Row3] = Field(default=[], description="U: [state, action, reward] rows")
    goals: dict[str, list[Row3]] = Field(default={}, description="named candidate goals")


class _Common(_Strict):
    name: str
    description: str = Field(default="", description="what the world is for, in a sentence or two")
    discount: Number
    horizon: Count | None = None
    deploy_share: Number = 0.5
    policy_class: Literal["tabular", "observation"] = Field(
        default="tabular",
        description="the class optima range over: every map from state to action "
        '("tabular"), or every deterministic map from observation to action ("observation")',
    )


class TabularWorldSpec(_Common):
    """A world written state by state."""

    states: list[str]
    actions: list[str]
    observations: dict[str, str] = {}
    train: EnvironmentSpec
    deploy: EnvironmentSpec
    objectives: ObjectivesSpec


class LevelSpec(_Strict):
    """One ASCII level and its weight in the environment's start distribution."""

    map: str
    weight: Number = 1.0


class GridSpec(_Strict):
    """The gridworld form: a legend, levels per environment, and the physics."""

    legend: dict[str, str] = Field(description="tile character -> tile type")
    train: list[LevelSpec | str]
    deploy: list[LevelSpec | str]
    terminal: list[str] = Field(default=[], description="tile types where episodes end")
    step_cost: Number = Field(default=0.0, description="reward added to every step (e.g. -0.01)")
    slip: Number = Field(default=0.0, description="probability of moving in a random direction")
    features: dict[str, list[str]] = Field(
        default={},
        description="what an agent sees of a tile type (channels of neural observations); "
        "by default a tile type is seen as itself and floor as nothing",
    )


class GridObjectivesSpec(_Strict):
    """Rewards for entering a tile of each type."""

    base: dict[str, Number] = {}
    intended: dict[str, Number] = {}
    goals: dict[str, dict[str, Number]] = {}


class GridWorldSpec(_Common):
    """A world written as ASCII levels."""

    gridworld: GridSpec
    objectives: GridObjectivesSpec = GridObjectivesSpec()
