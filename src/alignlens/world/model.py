"""The compiled world: one shared state/action space, two environments, the objectives.

A `World` is what every later stage reads (solvers, optimisers, lenses' inputs). It is
built from a world file or from Python and holds only arrays and names. Environments
are stored in a successor format: for each state and action, ``K``
candidate next states ``next_state[s, a, k]`` with probabilities ``prob[s, a, k]``
(unused slots point at ``s`` itself with probability 0).

With a finite horizon the world is time-augmented: each state is a pair (state, step)
and the last step leads to one absorbing terminal state. `base_state` maps every
augmented state back to the state of the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.world.graph import successor_reach

EnvName = Literal["train", "deploy"]
ENVIRONMENTS: tuple[EnvName, EnvName] = ("train", "deploy")


@dataclass(frozen=True, eq=False)
class Environment:
    """One environment over the world's states: where episodes start and how they move.

    Attributes:
        name: "train", "deploy", or a derived name such as "mixture(0.5)".
        start: start distribution over states, sums to 1.
        next_state: successor indices, int32 [S, A, K].
        prob: successor probabilities, float64 [S, A, K]; rows of non-terminal states sum to 1.
        terminal: states where the episode ends (no action, no reward). States that this
            environment never reaches are stored as terminal too: they have no dynamics here.
        present: states reachable from `start` under some policy.
        discount: γ in (0, 1].
        depth: with a finite horizon, a bound on the steps of every episode (the world is
            then acyclic and value iteration is exact after `depth` sweeps); else None.
    """

    name: str
    start: Float[np.ndarray, " S"]
    next_state: Int[np.ndarray, "S A K"]
    prob: Float[np.ndarray, "S A K"]
    terminal: Bool[np.ndarray, " S"]
    present: Bool[np.ndarray, " S"]
    discount: float
    depth: int | None = None

    @property
    def n_states(self) -> int:
        return int(self.next_state.shape[0])

    @property
    def n_actions(self) -> int:
        return int(self.next_state.shape[1])

    def with_start(self, name: str, start: Float[np.ndarray, " S"]) -> Environment:
        """The same dynamics started from another distribution (for example a mixture)."""

        present = successor_reach(start > 0, self.next_state, self.prob, self.terminal)
        return Environment(
            name,
            start,
            self.next_state,
            self.prob,
            self.terminal,
            present,
            self.discount,
            self.depth,
        )

    def subset(self, states: Bool[np.ndarray, " S"]) -> Environment:
        """The environment on a subset of its states, renumbered in order. A transition
        that leaves the subset returns to its own state instead (with the same
        probability), so rows stay distributions: only problems whose allowed actions
        stay inside the subset (for example the states a masked policy can reach) are the
        same problem on it. Start mass outside the subset is dropped."""
        index = np.full(self.n_states, -1, dtype=np.int32)
        index[states] = np.arange(int(np.count_nonzero(states)), dtype=np.int32)
        own = index[states][:, None, None]
        successors = index[self.next_state[states]]
        return Environment(
            self.name,
            self.start[states],
            np.where(successors >= 0, successors, own).astype(np.int32),
            self.prob[states],
            self.terminal[states],
            self.present[states],
            self.discount,
            self.depth,
        )


@dataclass(frozen=True, eq=False)
class GridLayout:
    """Where each state of a gridworld is: its level and position, and the level maps.

    Attributes:
        tile_types: names of the tile types; index 0 is "wall", 1 is "floor".
        levels: one int8 array [H, W] of tile-type indices per level.
        level_names: "train[0]", "deploy[1]", ... (a level used in both lists keeps its first name).
        level: level index of each base state.
        row, col: position of each base state.
        features: names of what an agent sees (the channels of neural observations).
        tile_features: which features each tile type shows, [tile types, features].
    """

    tile_types: tuple[str, ...]
    levels: tuple[Int[np.ndarray, "_H _W"], ...]
    level_names: tuple[str, ...]
    level: Int[np.ndarray, " B"]
    row: Int[np.ndarray, " B"]
    col: Int[np.ndarray, " B"]
    features: tuple[str, ...] = ()
    tile_features: Bool[np.ndarray, "T F"] = field(default_factory=lambda: np.zeros((0, 0), bool))


@dataclass(frozen=True, eq=False)
class World:
    """W = (S, A, train, deploy, R, U, G) of docs/model.md, compiled to arrays.

    Attributes:
        name: the world's name.
        states: names of the solver's states (with a horizon: "state@step", and "end").
        actions: action names.
        train, deploy: the two environments.
        base: R, the objective the optimiser sees, expected reward [S, A].
        intended: U, the objective we actually want (hidden from the optimiser), [S, A].
        goals: G, other named reward functions a policy might competently pursue, [S, A] each.
        observation: observation id of each state; policies over observations see only this.
        observation_names: the name of each observation id.
        base_state: index into `base_states` of each state (identity without a horizon;
            the absorbing end state of a horizon maps to -1).
        base_states: the state names as the file gives them.
        horizon: episode length, or None.
        deploy_share: λ, the fraction of the model's lifetime spent in deployment.
        shared_dynamics: whether the two environments agree wherever both define a state.
        source: the file the world came from ("<python>" when built in code).
        grid: positions and maps when the world is a gridworld.
        policy_class: the class its file declares: "tabular" (every map from state to
            action, the default) or "observation" (every deterministic map from
            observation to action).
    """

    name: str
    states: tuple[str, ...]
    actions: tuple[str, ...]
    train: Environment
    deploy: Environment
    base: Float[np.ndarray, "S A"]
    intended: Float[np.ndarray, "S A"]
    goals: Mapping[str, Float[np.ndarray, "S A"]]
    observation: Int[np.ndarray, " S"]
    observation_names: tuple[str, ...]
    base_state: Int[np.ndarray, " S"]
    base_states: tuple[str, ...]
    discount: float
    horizon: int | None
    deploy_share: float
    shared_dynamics: bool
    source: str = "<python>"
    grid: GridLayout | None = field(default=None)
    policy_class: str = "tabular"

    def __post_init__(self) -> None:
        object.__setattr__(self, "goals", MappingProxyType(dict(self.goals)))

    @property
    def n_states(self) -> int:
        return len(self.states)

    @property
    def n_actions(self) -> int:
        return len(self.actions)

    def __deepcopy__(self, memo: dict) -> World:
        """A world is immutable: a deep copy (of an environment that holds one, say) shares it."""
        return self

    def environment(self, name: EnvName) -> Environment:
        return self.train if name == "train" else self.deploy

    def objective(self, name: str) -> Float[np.ndarray, "S A"]:
        """The reward array of "base", "intended" or a goal's name."""
        if name == "base":
            return self.base
        if name == "intended":
            return self.intended
        return self.goals[name]
