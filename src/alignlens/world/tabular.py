"""The tabular form of a world file (states, actions and rows) compiled to a `RawWorld`."""

from __future__ import annotations

import numpy as np

from alignlens.errors import Problems, WorldError
from alignlens.world.raw import RawEnvironment, RawTransitions, RawWorld
from alignlens.world.schema import EnvironmentSpec, Row3, TabularWorldSpec


class _Names:
    """Name → index lookups; an unknown name is recorded as a problem naming the field
    (and looked up as index 0, so that every other name can still be checked)."""

    def __init__(self, kind: str, names: list[str], problems: Problems) -> None:
        self.kind = kind
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.problems = problems

    def __call__(self, name: str, field: str) -> int:
        if name not in self.index:
            shown = ", ".join(repr(n) for n in self.names[:8])
            more = ", ..." if len(self.names) > 8 else ""
            self.problems.add(
                f"unknown {self.kind} {name!r}",
                field=field,
                fix=f"use one of the listed {self.kind}s ({shown}{more}) or add it to "
                f"`{self.kind}s`",
            )
            return 0
        return self.index[name]


def compile_tabular(spec: TabularWorldSpec, source: str) -> RawWorld:
    """The world of a tabular file; a `WorldError` lists every unknown name at once."""
    problems = Problems()
    for which in ("states", "actions"):
        if not getattr(spec, which):  # then every name is unknown: say this alone
            problems.add(
                f"no {which} are listed", field=which, fix=f"list at least one of the {which}"
            )
    problems.raise_if_any(WorldError)
    state = _Names("state", spec.states, problems)
    action = _Names("action", spec.actions, problems)
    for s in spec.observations:
        state(s, f"observations.{s}")
    observations = tuple(spec.observations.get(s, s) for s in spec.states)
    raw = RawWorld(
        name=spec.name,
        states=tuple(spec.states),
        actions=tuple(spec.actions),
        observations=observations,
        discount=spec.discount,
        horizon=spec.horizon,
        deploy_share=spec.deploy_share,
        policy_class=spec.policy_class,
        train=_environment(spec.train, "train", state, action),
        deploy=_environment(spec.deploy, "deploy", state, action),
        base=_rewards(spec.objectives.base, "objectives.base", state, action),
        intended=_rewards(spec.objectives.intended, "objectives.intended", state, action),
        goals={
            k: _rewards(v, f"objectives.goals.{k}", state, action)
            for k, v in spec.objectives.goals.items()
        },
        source=source,
    )
    problems.raise_if_any(WorldError)
    return raw


def _environment(
    spec: EnvironmentSpec, field: str, state: _Names, action: _Names
) -> RawEnvironment:
    n = len(state.names)
    start = np.zeros(n)
    for s, p in spec.start.items():
        start[state(s, f"{field}.start")] += p
    terminal = np.zeros(n, dtype=bool)
    for i, s in enumerate(spec.terminal):
        terminal[state(s, f"{field}.terminal[{i}]")] = True
    rows = spec.transitions
    transitions = RawTransitions(
        state=np.array(
            [state(r[0], f"{field}.transitions[{i}][0]") for i, r in enumerate(rows)],
            dtype=np.int64,
        ),
        action=np.array(
            [action(r[1], f"{field}.transitions[{i}][1]") for i, r in enumerate(rows)],
            dtype=np.int64,
        ),
        next_state=np.array(
            [state(r[2], f"{field}.transitions[{i}][2]") for i, r in enumerate(rows)],
            dtype=np.int64,
        ),
        prob=np.array([r[3] for r in rows], dtype=np.float64),
    )
    return RawEnvironment(field, start, transitions, terminal)


def _rewards(rows: list[Row3], field: str, state: _Names, action: _Names) -> np.ndarray:
    """Expected reward r(s, a); rows for the same pair add up."""
    reward = np.zeros((len(state.names), len(action.names)))
    for i, (s, a, r) in enumerate(rows):
        si = state(s, f"{field}[{i}][0]")
        if a == "*":
            reward[si, :] += r
        else:
            reward[si, action(a, f"{field}[{i}][1]")] += r
    return reward
