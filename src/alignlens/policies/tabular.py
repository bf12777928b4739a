"""Tabular policies: any map from state to a distribution over actions.

A `TabularPolicy` holds one row of action probabilities per solver state, for each
environment (a planner acts by solving its own objective in the environment it is in,
so its behaviour may differ between the two; a plain table is the same in both). With a
finite horizon, a table given per state of the file is lifted to every step.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from jaxtyping import Float, Int

from alignlens.errors import SHOWN, PolicyError, Problems, WorldError
from alignlens.world.examples import resolve_example_path
from alignlens.world.files import read_document
from alignlens.world.model import World

PROBABILITY_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class MesaObjective:
    """The objective an explicit optimiser (a planner) declares it pursues.

    A policy that declares an objective itself is checked: it must be optimal for it
    (normalised regret ≤ ε) in deployment, where the objective is read; a mismatch is an
    error. An objective may instead be held by an inner optimiser *within* the policy (the
    heaviest member of a population, a driving allele, a demon in the search): ``holder``
    names it, and the policy's competence at it is measured, not checked.

    Attributes:
        name: its name ("reach_red", "base", ...).
        reward: r_m(s, a) over the world's states [S, A].
        holder: None when the policy itself declares the objective; else what within the
            policy holds it, in words.
    """

    name: str
    reward: Float[np.ndarray, "S A"]
    holder: str | None = None


@dataclass(frozen=True, eq=False)
class TabularPolicy:
    """Action probabilities per state, in training and in deployment.

    Attributes:
        name: a label for reports.
        train: [S, A] rows summing to 1 (any row at terminal states).
        deploy: [S, A], the same array as `train` unless the policy adapts to its environment.
        mesa: for an explicit optimiser, the objective it pursues in deployment; else None.
    """

    name: str
    train: Float[np.ndarray, "S A"]
    deploy: Float[np.ndarray, "S A"]
    mesa: MesaObjective | None = None

    @classmethod
    def fixed(cls, name: str, table: Float[np.ndarray, "S A"]) -> TabularPolicy:
        """The same table in both environments."""
        return cls(name, table, table)

    def acting_in(self, env: str) -> Float[np.ndarray, "S A"]:
        return self.train if env == "train" else self.deploy


def deterministic(
    world: World, actions: Int[np.ndarray, " S"], name: str = "policy"
) -> TabularPolicy:
    """A deterministic table from one action index per state."""
    table = np.zeros((world.n_states, world.n_actions))
    table[np.arange(world.n_states), actions] = 1.0
    return TabularPolicy.fixed(name, table)


def uniform(world: World) -> TabularPolicy:
    return TabularPolicy.fixed(
        "uniform", np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
    )


def lift(world: World, per_base_state: Float[np.ndarray, "B A"]) -> Float[np.ndarray, "S A"]:
    """A table over the file's states, repeated over the steps of a time-augmented world."""
    table = np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
    real = world.base_state >= 0
    table[real] = per_base_state[world.base_state[real]]
    return table


def policy_from_mapping(
    world: World, mapping: Any, *, source: str = "<python>", name: str = "policy"
) -> TabularPolicy:
    """A table from ``{state: action name | {action: probability}}`` (docs/world-files.md).

    Every non-terminal state that either environment can reach must be listed; states
    that cannot be reached may be left out.
    """
    if not isinstance(mapping, Mapping):
        raise PolicyError(
            "the policy is not a table of states",
            file=source,
            field="policy",
            fix='write {"policy": {"STATE": "ACTION" or {"ACTION": probability}}}',
        )
    state_index = {s: i for i, s in enumerate(world.base_states)}
    action_index = {a: i for i, a in enumerate(world.actions)}
    n_base = len(world.base_states)
    table = np.full((n_base, world.n_actions), np.nan)
    listed = np.zeros(n_base, dtype=bool)
    problems = Problems()  # every problem of the table, reported at once
    for state, row in mapping.items():
        field = f"policy.{state}"
        if state not in state_index:
            problems.add(
                f"unknown state {state!r}",
                field=field,
                fix="use the state names of the world file",
            )
            continue
        listed[state_index[state]] = True
        with problems.collect():
            table[state_index[state]] = _row(row, action_index, source, field)
    needed = _needed_base_states(world)
    missing = [world.base_states[i] for i in np.flatnonzero(needed & ~listed)]
    if len(missing) == 1:
        problems.add(
            f"state {missing[0]!r} is reachable but the policy does not say what to do there "
            "(1 such state(s))",
            field=f"policy.{missing[0]}",
            fix=f"add an action for {missing[0]!r} and every other reachable state",
        )
    elif missing:
        shown = ", ".join(map(repr, missing[:SHOWN]))
        more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
        problems.add(
            f"states {shown}{more} are reachable but the policy does not say what to do "
            f"there ({len(missing)} such states)",
            field=f"policy.{missing[0]}",
            fix="add an action for every reachable state",
        )
    problems.raise_if_any(PolicyError, file=source)
    table[~listed] = 1.0 / world.n_actions
    return TabularPolicy.fixed(name, lift(world, table))


def load_policy(world: World, path: str | Path) -> TabularPolicy:
    """Read a JSON policy file ``{"policy": {...}}`` for ``world``; ``examples/...`` falls
    back to the example files that ship with alignlens (`resolve_example_path`)."""
    path = resolve_example_path(path)
    try:
        document = read_document(path, kind="policy")
    except WorldError as error:  # the reader's message, reported as a policy error
        raise PolicyError.many(error.problems, file=error.file) from None
    if not isinstance(document, dict) or "policy" not in document:
        raise PolicyError(
            "no `policy` table",
            file=str(path),
            field="policy",
            fix='write {"policy": {"STATE": "ACTION" or {"ACTION": probability}}}',
        )
    return policy_from_mapping(world, document["policy"], source=str(path), name=path.stem)


def policy_from_callable(
    world: World, act: Callable[[Hashable], Any], *, name: str = "callable"
) -> TabularPolicy:
    """A table from ``act(observation) -> action name | action index | probabilities``.

    ``act`` is called once per distinct observation (states that look alike get the
    same action) with the observation's name.
    """
    action_index = {a: i for i, a in enumerate(world.actions)}
    rows = np.empty((len(world.observation_names), world.n_actions))
    for i, observation in enumerate(world.observation_names):
        rows[i] = _row(act(observation), action_index, "<callable>", f"act({observation!r})")
    return TabularPolicy.fixed(name, rows[world.observation])


def _row(row: Any, action_index: Mapping[str, int], source: str, field: str) -> np.ndarray:
    n = len(action_index)
    out = np.zeros(n)
    if isinstance(row, str):
        if row not in action_index:
            raise PolicyError(
                f"unknown action {row!r}",
                file=source,
                field=field,
                fix=f"use one of {', '.join(map(repr, action_index))}",
            )
        out[action_index[row]] = 1.0
        return out
    if isinstance(row, int | np.integer) and not isinstance(row, bool):
        if not 0 <= int(row) < n:
            raise PolicyError(
                f"action index {row} is out of range",
                file=source,
                field=field,
                fix=f"use an index from 0 to {n - 1}",
            )
        out[int(row)] = 1.0
        return out
    if isinstance(row, Mapping):
        for action, p in row.items():
            if action not in action_index:
                raise PolicyError(
                    f"unknown action {action!r}",
                    file=source,
                    field=f"{field}.{action}",
                    fix=f"use one of {', '.join(map(repr, action_index))}",
                )
            out[action_index[action]] = _probability(p, source, f"{field}.{action}")
    else:
        try:
            if not _numeric(row):
                raise TypeError
            values = np.asarray(row, dtype=float).ravel()
        except (TypeError, ValueError, OverflowError):
            raise PolicyError(
                f"{_shown(row)} is not an action name, an action index or a list of "
                "action probabilities",
                file=source,
                field=field,
                fix="give an action name, or one probability per action, in action order",
            ) from None
        if values.shape != (n,):
            raise PolicyError(
                f"expected {n} action probabilities, got {values.size}",
                file=source,
                field=field,
                fix="give one probability per action, in action order",
            )
        for j, p in enumerate(values):
            out[j] = _probability(p, source, field)
    total = float(out.sum())
    if abs(total - 1.0) > PROBABILITY_TOLERANCE:
        raise PolicyError(
            f"the action probabilities sum to {total:.12g}, not 1",
            file=source,
            field=field,
            fix="make the probabilities of each state sum to 1",
        )
    return out


def _numeric(row: Any) -> bool:
    """Whether ``row`` is a flat list of numbers (not strings, not true/false)."""
    if hasattr(row, "__array__"):  # NumPy, JAX or Torch arrays
        return np.asarray(row).dtype.kind in "iuf"
    if not isinstance(row, list | tuple):
        return False
    return all(
        isinstance(p, int | float | np.integer | np.floating) and not isinstance(p, bool)
        for p in row
    )


def _shown(value: Any, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _probability(p: Any, source: str, field: str) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float | np.floating | np.integer):
        raise PolicyError(
            f"{p!r} is not a probability",
            file=source,
            field=field,
            fix="use a number between 0 and 1",
        )
    if not math.isfinite(float(p)) or p < 0:
        raise PolicyError(
            f"probability {p!r} is negative or not a number",
            file=source,
            field=field,
            fix="use a number between 0 and 1",
        )
    return float(p)


def _needed_base_states(world: World) -> np.ndarray:
    """File states that some step of either environment reaches and where the agent acts."""
    acting = (world.train.present & ~world.train.terminal) | (
        world.deploy.present & ~world.deploy.terminal
    )
    needed = np.zeros(len(world.base_states), dtype=bool)
    real = world.base_state >= 0
    needed[world.base_state[real & acting]] = True
    return needed
