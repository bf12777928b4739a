"""The gridworld compiler against hand-worked cases and Monte-Carlo rollouts of the map.

The simulator below reads the ASCII map itself (not the compiled arrays) and plays the
physics written in the gridworld module's docstring, so agreement within confidence
bounds checks the compiler by a second method.
"""

from __future__ import annotations

import numpy as np
import pytest

from alignlens.solve import evaluate, optimize
from alignlens.world import load_world, world_from_dict

MOVES = {"up": (-1, 0), "down": (1, 0), "left": (0, -1), "right": (0, 1)}

SLIPPERY = {
    "name": "slippery",
    "discount": 0.9,
    "gridworld": {
        "legend": {"#": "wall", ".": "floor", "A": "start", "G": "goal", "L": "lava", "c": "coin"},
        "terminal": ["goal", "lava"],
        "step_cost": -0.05,
        "slip": 0.2,
        "train": [
            {"map": "#######\n#A.c.G#\n#..L..#\n#######", "weight": 3.0},
            "#######\n#..c.G#\n#A.L..#\n#######",
        ],
        "deploy": ["#####\n#A.G#\n#.L.#\n#####"],
    },
    "objectives": {"base": {"goal": 1.0, "lava": -1.0}, "intended": {"coin": 0.5, "goal": 1.0}},
}


def test_lava_levels_compile_to_level_by_position(examples) -> None:
    world = load_world(examples / "lava.toml")
    # Three distinct 7×9 levels with 5×7 open cells each.
    assert world.n_states == 3 * 35
    assert world.grid is not None and world.grid.level_names == (
        "train[0]",
        "deploy[0]",
        "deploy[1]",
    )
    start = world.states.index("train[0]:(1,1)")
    assert world.train.start[start] == 1.0
    assert world.deploy.start[world.states.index("deploy[0]:(1,1)")] == 0.5
    assert world.deploy.start[world.states.index("deploy[1]:(1,1)")] == 0.5
    right = world.actions.index("right")
    # Entering floor costs the step; entering lava adds its −1 and ends the episode.
    assert world.base[start, right] == pytest.approx(-0.02)
    before_lava = world.states.index("train[0]:(1,2)")
    assert world.base[before_lava, right] == pytest.approx(-1.02)
    lava = world.states.index("train[0]:(1,3)")
    assert world.train.terminal[lava]
    # Bumping into the wall leaves the agent in place and earns only the step cost.
    up = world.actions.index("up")
    assert world.train.next_state[start, up, 0] == start
    assert world.base[start, up] == pytest.approx(-0.02)


def test_lava_training_optimum_is_the_shortest_safe_path(examples) -> None:
    # Down, six steps right along row 2, up into the goal: 8 steps, the last one +1.
    world = load_world(examples / "lava.toml")
    g = 0.95
    want = sum(-0.02 * g**t for t in range(8)) + g**7 * 1.0
    assert optimize(world.train, world.base).value == pytest.approx(want)


def test_slip_spreads_probability_over_the_four_directions() -> None:
    world = world_from_dict(SLIPPERY)
    s = world.states.index("train[0]:(1,2)")
    a = world.actions.index("right")
    succ = dict(zip(world.train.next_state[s, a], world.train.prob[s, a], strict=True))
    # right: 0.8 + 0.05; up is a wall and left... stays/moves with 0.05 each.
    assert succ[world.states.index("train[0]:(1,3)")] == pytest.approx(0.85)
    assert succ[world.states.index("train[0]:(1,1)")] == pytest.approx(0.05)
    assert succ[world.states.index("train[0]:(2,2)")] == pytest.approx(0.05)
    assert succ[s] == pytest.approx(0.05)  # the wall above
    # Level weights 3:1 give the start distribution.
    assert world.train.start[world.states.index("train[0]:(1,1)")] == pytest.approx(0.75)
    assert world.train.start[world.states.index("train[1]:(2,1)")] == pytest.approx(0.25)


def simulate(spec: dict, env: str, objective: str, policy, episodes: int, seed: int) -> np.ndarray:
    """Discounted returns of ``policy(level, row, col) -> action`` played on the ASCII maps."""
    grid = spec["gridworld"]
    legend, terminal = grid["legend"], set(grid["terminal"])
    rewards = spec["objectives"][objective]
    levels = [lv if isinstance(lv, dict) else {"map": lv} for lv in grid[env]]
    maps = [lv["map"].strip("\n").split("\n") for lv in levels]
    weights = np.array([lv.get("weight", 1.0) for lv in levels])
    rng = np.random.default_rng(seed)
    out = np.empty(episodes)
    for e in range(episodes):
        j = rng.choice(len(maps), p=weights / weights.sum())
        rows = maps[j]
        starts = [
            (r, c)
            for r, line in enumerate(rows)
            for c, ch in enumerate(line)
            if legend[ch] == "start"
        ]
        r, c = starts[rng.integers(len(starts))]
        total, discount = 0.0, 1.0
        for _ in range(400):
            action = policy(j, r, c)
            if rng.random() < grid["slip"]:
                action = list(MOVES)[rng.integers(4)]
            dr, dc = MOVES[action]
            nr, nc = r + dr, c + dc
            inside = 0 <= nr < len(rows) and 0 <= nc < len(rows[0])
            step = grid["step_cost"]
            if inside and legend[rows[nr][nc]] != "wall":
                r, c = nr, nc
                step += rewards.get(legend[rows[r][c]], 0.0)
            else:
                pass  # bumped: nothing entered
            total += discount * step
            discount *= spec["discount"]
            if legend[rows[r][c]] in terminal:
                break
        out[e] = total
    return out


@pytest.mark.parametrize("objective", ["base", "intended"])
def test_exact_returns_agree_with_monte_carlo_rollouts(objective: str) -> None:
    world = world_from_dict(SLIPPERY)
    grid = world.grid
    assert grid is not None

    def rule(level: int, row: int, col: int) -> str:
        return "right" if row == 1 else ("up" if col % 2 else "right")

    policy = np.zeros((world.n_states, world.n_actions))
    for s in range(world.n_states):
        policy[s, world.actions.index(rule(grid.level[s], grid.row[s], grid.col[s]))] = 1.0
    exact = evaluate(world.train, world.objective(objective), policy).value
    # Level indices of the simulator follow the train list, which is the compiler's order too.
    returns = simulate(SLIPPERY, "train", objective, rule, episodes=4000, seed=11)
    se = returns.std(ddof=1) / np.sqrt(returns.size)
    assert abs(returns.mean() - exact) < 4.5 * se
