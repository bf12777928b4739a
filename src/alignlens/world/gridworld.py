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

from alignlens.errors import Problems, WorldError
from alignlens.limits import CELL_BYTES, check_fits, table_bytes
from alignlens.world.assemble import RETURN_LIMIT, reward_limit, scalar_problems
from alignlens.world.model import GridLayout
from alignlens.world.raw import RawEnvironment, RawTransitions, RawWorld
from alignlens.world.schema import GridSpec, GridWorldSpec, LevelSpec

ACTIONS = ("up", "down", "left", "right")
MOVES = np.array([(-1, 0), (1, 0), (0, -1), (0, 1)])
SPECIAL = ("wall", "floor", "start")


def _check_scale(spec: GridWorldSpec, tables: dict[str, dict], problems: Problems) -> None:
    """A step pays the step cost and the reward of the tile entered: each at most half the
    largest reward whose returns alignlens computes exactly (`reward_limit`)."""
    if scalar_problems(spec.discount, spec.horizon, spec.deploy_share):
        return  # reported on their own; the limit needs them
    half = reward_limit(spec.discount, spec.horizon) / 2
    pieces = {"gridworld.step_cost": spec.gridworld.step_cost}
    pieces |= {f"{field}.{t}": r for field, table in tables.items() for t, r in table.items()}
    for field, value in pieces.items():
        if math.isfinite(value) and abs(value) > half:
            problems.add(
                f"{value:.6g} makes returns overflow what alignlens computes exactly "
                f"(|return| ≤ {RETURN_LIMIT:.0e})",
                field=field,
                fix=f"rescale the rewards and step cost to at most {half:.3g} in size (with "
                "this discount); verdicts do not change with scale",
            )


def compile_gridworld(spec: GridWorldSpec, source: str) -> RawWorld:
    """The world of a gridworld file; a `WorldError` lists every problem found at once
    (the levels and tile types are checked only once the legend is valid)."""
    grid = spec.gridworld
    walls = {c for c, kind in grid.legend.items() if kind == "wall"} | {"\n", "\r", " "}
    maps = {
        level if isinstance(level, str) else level.map
        for env in ("train", "deploy")
        for level in getattr(grid, env)
    }
    cells = sum(len(m) - sum(m.count(c) for c in walls) for m in maps)
    steps = spec.horizon if isinstance(spec.horizon, int) and spec.horizon > 0 else 1
    width = len(MOVES) if grid.slip > 0 else 1
    check_fits(  # before parsing: a level of millions of cells is refused at once
        cells * CELL_BYTES + table_bytes(cells * steps, len(MOVES), width),
        f"the levels' {cells:,} cells" + (f" × {steps:,} steps" if steps > 1 else ""),
        file=source,
        field="gridworld",
        fix="give smaller levels" + (" or a shorter horizon" if steps > 1 else ""),
    )
    problems = Problems()
    tile_types, char_type = _legend(grid, problems)
    legend_ok = not problems
    type_index = {t: i for i, t in enumerate(tile_types)}
    terminal_types = _tile_set(grid.terminal, type_index, "gridworld.terminal", problems)
    if not (math.isfinite(grid.slip) and 0.0 <= grid.slip <= 1.0):
        problems.add(
            f"slip {grid.slip!r} is outside [0, 1]",
            field="gridworld.slip",
            fix="give the probability of a random move, between 0 and 1",
        )
    if not math.isfinite(grid.step_cost):
        problems.add(
            f"step_cost {grid.step_cost!r} is not finite",
            field="gridworld.step_cost",
            fix="use a finite number",
        )

    maps: list[np.ndarray] = []
    names: list[str] = []
    keys: dict[bytes, int] = {}
    weights: dict[str, dict[int, list[float]]] = {"train": {}, "deploy": {}}
    starts: list[np.ndarray] = []
    for env in ("train", "deploy"):
        levels: list[LevelSpec | str] = getattr(grid, env)
        if not levels:
            problems.add(
                "no levels are given", field=f"gridworld.{env}", fix="add at least one ASCII level"
            )
        for i, level in enumerate(levels):
            field = f"gridworld.{env}[{i}]"
            level = LevelSpec(map=level) if isinstance(level, str) else level
            if not (math.isfinite(level.weight) and level.weight > 0):
                problems.add(
                    f"weight {level.weight!r} is not positive",
                    field=f"{field}.weight",
                    fix="use a positive weight",
                )
            if not legend_ok:  # the characters of the levels mean nothing yet
                continue
            parsed = _parse_level(level.map, char_type, type_index, field, problems)
            if parsed is None:
                continue
            tiles, start = parsed
            key = tiles.tobytes() + start.tobytes() + repr(tiles.shape).encode()
            if key not in keys:
                keys[key] = len(maps)
                maps.append(tiles)
                starts.append(start)
                names.append(f"{env}[{i}]")
            weights[env].setdefault(keys[key], []).append(level.weight)
    features, tile_features = _features(grid.features, tile_types, problems)
    objectives = spec.objectives
    tables = {
        "objectives.base": objectives.base,
        "objectives.intended": objectives.intended,
        **{f"objectives.goals.{k}": v for k, v in objectives.goals.items()},
    }
    for field, table in tables.items():
        for t, r in table.items():
            _tile_set([t], type_index, field, problems)
            if not math.isfinite(r):
                problems.add(
                    f"the reward of tile {t!r} is {r!r}",
                    field=f"{field}.{t}",
                    fix="use a finite number",
                )
    _check_scale(spec, tables, problems)
    problems.raise_if_any(WorldError)

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

    def objective(table: Mapping[str, float]) -> np.ndarray:
        per_type = np.zeros(len(tile_types))
        for t, r in table.items():
            per_type[type_index[t]] = r
        enter = np.where(moved, per_type[tile_of[target]], 0.0)  # [S, direction]
        reward = grid.step_cost + enter @ p_dir.T  # [S, action]
        reward[terminal] = 0.0
        return reward

    def environment(env: str) -> RawEnvironment:
        start = np.zeros(n_states)
        top = max(max(ws) for ws in weights[env].values())  # shares of the largest weight:
        shares = {j: sum(w / top for w in ws) for j, ws in weights[env].items()}  # no overflow
        total = sum(shares.values())
        for j, share in shares.items():
            cells = index_maps[j][starts[j]]
            start[cells] += share / total / cells.size
        return RawEnvironment(f"gridworld.{env}", start, transitions, terminal)

    state_names = tuple(
        f"{names[j]}:({r},{c})" for j, r, c in zip(level_of_a, row_a, col_a, strict=True)
    )
    return RawWorld(
        name=spec.name,
        states=state_names,
        actions=ACTIONS,
        observations=state_names,
        discount=spec.discount,
        horizon=spec.horizon,
        deploy_share=spec.deploy_share,
        policy_class=spec.policy_class,
        train=environment("train"),
        deploy=environment("deploy"),
        base=objective(objectives.base),
        intended=objective(objectives.intended),
        goals={k: objective(v) for k, v in objectives.goals.items()},
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


def _legend(grid: GridSpec, problems: Problems) -> tuple[tuple[str, ...], dict[str, str]]:
    for char, kind in grid.legend.items():
        if len(char) != 1:
            problems.add(
                f"legend key {char!r} is not a single character",
                field=f"gridworld.legend.{char}",
                fix="map one character to each tile type",
            )
        if not kind:
            problems.add(
                "empty tile type",
                field=f"gridworld.legend.{char}",
                fix='name the tile type, e.g. "lava"',
            )
    if "start" not in grid.legend.values():
        problems.add(
            "no character stands for the agent's start",
            field="gridworld.legend",
            fix='add a character for "start", e.g. A = "start"',
        )
    others = [k for k in dict.fromkeys(grid.legend.values()) if k not in SPECIAL]
    return ("wall", "floor", *others), dict(grid.legend)


def _features(
    given: Mapping[str, list[str]], tile_types: tuple[str, ...], problems: Problems
) -> tuple[tuple[str, ...], np.ndarray]:
    """The features an agent sees and which tile types show each: a tile type shows itself
    unless ``gridworld.features`` says otherwise; floor shows nothing."""
    for kind in given:
        if kind not in tile_types:
            problems.add(
                f"unknown tile type {kind!r}",
                field=f"gridworld.features.{kind}",
                fix=f"use a tile type of the legend ({', '.join(map(repr, tile_types))})",
            )
    shows = {t: list(given.get(t, [] if t == "floor" else [t])) for t in tile_types}
    names = tuple(dict.fromkeys(f for t in tile_types for f in shows[t]))
    table = np.array([[f in shows[t] for f in names] for t in tile_types], dtype=bool)
    return names, table.reshape(len(tile_types), len(names))


def _tile_set(
    names: list[str], type_index: Mapping[str, int], field: str, problems: Problems
) -> set[int]:
    """The indices of the tile types ``names``; unknown ones are recorded in ``problems``."""
    out = set()
    for name in names:
        if name not in type_index or name == "wall":
            known = ", ".join(repr(t) for t in type_index if t != "wall")
            problems.add(
                f"unknown tile type {name!r}",
                field=field,
                fix=f"use a tile type of the legend ({known})",
            )
        else:
            out.add(type_index[name])
    return out


def _parse_level(
    text: str,
    char_type: Mapping[str, str],
    type_index: Mapping[str, int],
    field: str,
    problems: Problems,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Tile-type indices [H, W] and the start mask of one ASCII level, or None when the
    level has problems (each ragged row, each unknown character and a missing start are
    recorded in ``problems``)."""
    lines = text.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        problems.add("the level is empty", field=f"{field}", fix="draw the level in ASCII")
        return None
    found = len(problems)
    width = len(lines[0])
    tiles = np.zeros((len(lines), width), dtype=np.int64)
    start = np.zeros((len(lines), width), dtype=bool)
    unknown: dict[str, list[tuple[int, int]]] = {}
    ragged = False
    for r, line in enumerate(lines):
        if len(line) != width:
            ragged = True
            problems.add(
                f"row {r} has {len(line)} characters but row 0 has {width} (the level is ragged)",
                field=field,
                fix="make every row of the level the same length",
            )
        for c, ch in enumerate(line):
            if ch not in char_type:
                unknown.setdefault(ch, []).append((r, c))
                continue
            kind = char_type[ch]
            if c < width:
                start[r, c] = kind == "start"
                tiles[r, c] = type_index["floor" if kind == "start" else kind]
    for ch, places in unknown.items():
        (r, c), more = places[0], len(places) - 1
        elsewhere = f" (and {more} more place{'s' if more > 1 else ''})" if more else ""
        problems.add(
            f"tile {ch!r} at row {r}, column {c} is not in the legend{elsewhere}",
            field=field,
            fix=f"add {ch!r} to gridworld.legend or use one of {''.join(sorted(char_type))!r}",
        )
    if not ragged and not start.any():
        problems.add(
            "the level has no start tile",
            field=field,
            fix="mark where the agent starts with the legend's start character",
        )
    return (tiles, start) if len(problems) == found else None
