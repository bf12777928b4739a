"""The gridworld form: ASCII levels compiled to a tabular world (states = level × position).

Physics: four actions (up, down, left, right). With probability ``slip`` the agent moves
in a uniformly random direction instead (any of the four), so the intended direction
has probability 1 − slip + slip/4. Moving into a wall or off the map leaves the agent
where it is. Rewards are paid for *entering* a tile (staying put enters nothing), plus
``step_cost`` on every step. Terminal tiles end the episode once entered. Each
environment starts in one of its levels with probability proportional to the level's
weight, uniformly over that level's start tiles. A level listed in both environments is
one level: its states are shared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from alignlens.errors import WorldError
from alignlens.world.model import GridLayout
from alignlens.world.raw import RawEnvironment, RawTransitions, RawWorld
from alignlens.world.schema import GridSpec, GridWorldSpec, LevelSpec

ACTIONS = ("up", "down", "left", "right")
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])
SPECIAL = ("wall", "floor", "start")


def compile_gridworld(spec: GridWorldSpec, source: str) -> RawWorld:
    grid = spec.gridworld
    tile_types, char_type = _legend(grid)
    type_index = {t: i for i, t in enumerate(tile_types)}
    terminal_types = _tile_set(grid.terminal, type_index, "gridworld.terminal")
    if not (math.isfinite(grid.slip) and 0.0 <= grid.slip <= 1.0):
        raise WorldError(
            f"slip {grid.slip!r} is outside [0, 1]",
            field="gridworld.slip",
            fix="give the probability of a random move, between 0 and 1",
        )
    if not math.isfinite(grid.step_cost):
        raise WorldError(
            f"step_cost {grid.step_cost!r} is not finite",
            field="gridworld.step_cost",
            fix="use a finite number",
        )

    maps: list[np.ndarray] = []
    names: list[str] = []
    keys: dict[bytes, int] = {}
    weights: dict[str, dict[int, float]] = {"train": {}, "deploy": {}}
    starts: list[np.ndarray] = []
    for env in ("train", "deploy"):
        levels: list[LevelSpec | str] = getattr(grid, env)
        if not levels:
            raise WorldError(
                "no levels are given", field=f"gridworld.{env}", fix="add at least one ASCII level"
            )
        for i, level in enumerate(levels):
            field = f"gridworld.{env}[{i}]"
            level = LevelSpec(map=level) if isinstance(level, str) else level
            tiles, start = _parse_level(level.map, char_type, type_index, field)
            if not (math.isfinite(level.weight) and level.weight > 0):
                raise WorldError(
                    f"weight {level.weight!r} is not positive",
                    field=f"{field}.weight",
                    fix="use a positive weight",
                )
            key = tiles.tobytes() + start.tobytes() + repr(tiles.shape).encode()
            if key not in keys:
                keys[key] = len(maps)
                maps.append(tiles)
                starts.append(start)
                names.append(f"{env}[{i}]")
            j = keys[key]
            weights[env][j] = weights[env].get(j, 0.0) + level.weight

    # States: every non-wall cell of every distinct level, level by level, row-major.
    level_of, rows, cols, index_maps, offset = [], [], [], [], 0
    for j, tiles in enumerate(maps):
        r, c = np.nonzero(tiles != type_index["wall"])
        index = np.full(tiles.shape, -1, dtype=np.int64)
        index[r, c] = offset + np.arange(r.size)
        index_maps.append(index)
        level_of.append(np.full(r.size, j))
        rows.append(r)
        cols.append(c)
        offset += r.size
    level_of_a, row_a, col_a = (np.concatenate(x) for x in (level_of, rows, cols))
    n_states = offset
    tile_of = np.concatenate(
        [maps[j][r, c] for j, r, c in zip(range(len(maps)), rows, cols, strict=True)]
    )
    terminal = np.isin(tile_of, list(terminal_types))

    # Where each direction leads from each state (staying put at walls and borders).
    target = np.empty((n_states, 4), dtype=np.int64)
    for j, index in enumerate(index_maps):
        sel = level_of_a == j
        for d, (dr, dc) in enumerate(MOVES):
            rr, cc = row_a[sel] + dr, col_a[sel] + dc
            inside = (rr >= 0) & (rr < index.shape[0]) & (cc >= 0) & (cc < index.shape[1])
            t = np.full(rr.shape, -1)
            t[inside] = index[rr[inside], cc[inside]]
            target[sel, d] = np.where(t >= 0, t, np.flatnonzero(sel))
    # p(direction | action): the intended one, or a uniformly random one after a slip.
    p_dir = (1.0 - grid.slip) * np.eye(4) + grid.slip / 4.0

    live = np.flatnonzero(~terminal)
    s_idx, a_idx, d_idx = (x.ravel() for x in np.meshgrid(live, range(4), range(4), indexing="ij"))
    prob = p_dir[a_idx, d_idx]
    keep = prob > 0
    transitions = RawTransitions(
        state=s_idx[keep],
        action=a_idx[keep],
        next_state=target[s_idx[keep], d_idx[keep]],
        prob=prob[keep],
    )
    moved = target != np.arange(n_states)[:, None]

    def objective(table: Mapping[str, float], field: str) -> np.ndarray:
        per_type = np.zeros(len(tile_types))
        for t, r in table.items():
            (i,) = _tile_set([t], type_index, field)
            if not math.isfinite(r):
                raise WorldError(
                    f"the reward of tile {t!r} is {r!r}",
                    field=f"{field}.{t}",
                    fix="use a finite number",
                )
            per_type[i] = r
        enter = np.where(moved, per_type[tile_of[target]], 0.0)  # [S, direction]
        reward = grid.step_cost + enter @ p_dir.T  # [S, action]
        reward[terminal] = 0.0
        return reward

    def environment(env: str) -> RawEnvironment:
        start = np.zeros(n_states)
        total = sum(weights[env].values())
        for j, w in weights[env].items():
            cells = index_maps[j][starts[j]]
            start[cells] += w / total / cells.size
        return RawEnvironment(f"gridworld.{env}", start, transitions, terminal)

    features, tile_features = _features(grid.features, tile_types)
    state_names = tuple(
        f"{names[j]}:({r},{c})" for j, r, c in zip(level_of_a, row_a, col_a, strict=True)
    )
    objectives = spec.objectives
    return RawWorld(
        name=spec.name,
        states=state_names,
        actions=ACTIONS,
        observations=state_names,
        discount=spec.discount,
        horizon=spec.horizon,
        deploy_share=spec.deploy_share,
        train=environment("train"),
        deploy=environment("deploy"),
        base=objective(objectives.base, "objectives.base"),
        intended=objective(objectives.intended, "objectives.intended"),
        goals={k: objective(v, f"objectives.goals.{k}") for k, v in objectives.goals.items()},
        source=source,
        grid=GridLayout(
            tile_types=tile_types,
            levels=tuple(m.astype(np.int8) for m in maps),
            level_names=tuple(names),
            level=level_of_a,
            row=row_a,
            col=col_a,
            features=features,
            tile_features=tile_features,
        ),
    )


def _legend(grid: GridSpec) -> tuple[tuple[str, ...], dict[str, str]]:
    for char, kind in grid.legend.items():
        if len(char) != 1:
            raise WorldError(
                f"legend key {char!r} is not a single character",
                field=f"gridworld.legend.{char}",
                fix="map one character to each tile type",
            )
        if not kind:
            raise WorldError(
                "empty tile type",
                field=f"gridworld.legend.{char}",
                fix='name the tile type, e.g. "lava"',
            )
    if "start" not in grid.legend.values():
        raise WorldError(
            "no character stands for the agent's start",
            field="gridworld.legend",
            fix='add a character for "start", e.g. A = "start"',
        )
    others = [k for k in dict.fromkeys(grid.legend.values()) if k not in SPECIAL]
    return ("wall", "floor", *others), dict(grid.legend)


def _features(
    given: Mapping[str, list[str]], tile_types: tuple[str, ...]
) -> tuple[tuple[str, ...], np.ndarray]:
    """The features an agent sees and which tile types show each: a tile type shows itself
    unless ``gridworld.features`` says otherwise; floor shows nothing."""
    for kind in given:
        if kind not in tile_types:
            raise WorldError(
                f"unknown tile type {kind!r}",
                field=f"gridworld.features.{kind}",
                fix=f"use a tile type of the legend ({', '.join(map(repr, tile_types))})",
            )
    shows = {t: list(given.get(t, [] if t == "floor" else [t])) for t in tile_types}
    names = tuple(dict.fromkeys(f for t in tile_types for f in shows[t]))
    table = np.array([[f in shows[t] for f in names] for t in tile_types], dtype=bool)
    return names, table.reshape(len(tile_types), len(names))


def _tile_set(names: list[str], type_index: Mapping[str, int], field: str) -> set[int]:
    out = set()
    for name in names:
        if name not in type_index or name == "wall":
            known = ", ".join(repr(t) for t in type_index if t != "wall")
            raise WorldError(
                f"unknown tile type {name!r}",
                field=field,
                fix=f"use a tile type of the legend ({known})",
            )
        out.add(type_index[name])
    return out


def _parse_level(
    text: str, char_type: Mapping[str, str], type_index: Mapping[str, int], field: str
) -> tuple[np.ndarray, np.ndarray]:
    """Tile-type indices [H, W] and the start mask of one ASCII level."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise WorldError("the level is empty", field=f"{field}", fix="draw the level in ASCII")
    width = len(lines[0])
    tiles = np.zeros((len(lines), width), dtype=np.int64)
    start = np.zeros((len(lines), width), dtype=bool)
    for r, line in enumerate(lines):
        if len(line) != width:
            raise WorldError(
                f"row {r} has {len(line)} characters but row 0 has {width} (the level is ragged)",
                field=field,
                fix="make every row of the level the same length",
            )
        for c, ch in enumerate(line):
            if ch not in char_type:
                raise WorldError(
                    f"tile {ch!r} at row {r}, column {c} is not in the legend",
                    field=field,
                    fix=f"add {ch!r} to gridworld.legend or use one of "
                    f"{''.join(sorted(char_type))!r}",
                )
            kind = char_type[ch]
            start[r, c] = kind == "start"
            tiles[r, c] = type_index["floor" if kind == "start" else kind]
    if not start.any():
        raise WorldError(
            "the level has no start tile",
            field=field,
            fix="mark where the agent starts with the legend's start character",
        )
    return tiles, start
