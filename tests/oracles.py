"""Independent oracles the tests share: the same numbers computed another way (linear
programming, dense solves, brute force over every deterministic policy, hand-written
models of Gymnasium's and MiniGrid's environments), and the worlds and policies they
are computed for."""

from __future__ import annotations

import itertools
from collections import deque

import numpy as np
import scipy.optimize as so

from alignlens.world.gymnasium import END
from alignlens.world.model import Environment
from worlds import dense_model


def random_env(
    seed: int, n: int = 30, a: int = 3, k: int = 4, gamma: float = 0.9, terminal: int = 2
) -> tuple[Environment, np.ndarray]:
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, n, (n, a, k)).astype(np.int32)
    p = rng.random((n, a, k))
    p /= p.sum(-1, keepdims=True)
    term = np.zeros(n, dtype=bool)
    term[:terminal] = True
    reward = rng.normal(size=(n, a))
    reward[term] = 0.0
    start = np.full(n, 1.0 / n)
    return Environment("t", start, nxt, p, term, np.ones(n, dtype=bool), gamma), reward


def dense(env: Environment) -> np.ndarray:
    n, a, k = env.next_state.shape
    P = np.zeros((a, n, n))
    for s in range(n):
        for j in range(a):
            for i in range(k):
                P[j, s, env.next_state[s, j, i]] += env.prob[s, j, i]
    P[:, env.terminal] = 0.0
    return P


def lp_optimal_values(env: Environment, reward: np.ndarray) -> np.ndarray:
    """min Σ V  s.t.  V(s) ≥ r(s,a) + γ Σ P V  (non-terminal),  V(terminal) = 0."""
    P = dense(env)
    n, a = reward.shape
    rows, rhs = [], []
    for s in np.flatnonzero(~env.terminal):
        for j in range(a):
            row = env.discount * P[j, s].copy()
            row[s] -= 1.0
            rows.append(row)
            rhs.append(-reward[s, j])
    bounds = [(0, 0) if t else (None, None) for t in env.terminal]
    res = so.linprog(
        np.ones(n), A_ub=np.array(rows), b_ub=np.array(rhs), bounds=bounds, method="highs"
    )
    assert res.success
    return res.x


EPS = 1e-9


def brute_optimal(values: np.ndarray) -> np.ndarray:
    best, worst = values.max(), values.min()
    if best - worst <= 1e-12 * max(1.0, abs(best)):
        return np.ones(values.shape, dtype=bool)
    return (best - values) / (best - worst) <= EPS


def brute_tables(d: dict) -> tuple:
    model = dense_model(d)
    policies = model.policies()
    table = {
        (e, o): np.array([model.returns(e, o, p) for p in policies])
        for e in ("train", "deploy")
        for o in ("base", "intended")
    }
    return model, policies, table


TRAIN_MAP = ["SFFF", "FHFH", "FFFH", "HFFG"]  # Gymnasium's 4×4 map


DEPLOY_MAP = ["SFFF", "FFFH", "FHFH", "HFFG"]  # the holes of rows 1 and 2 moved


def frozen_lake(desc: list[str], slippery: bool) -> tuple[dict, dict]:
    """Actions left, down, right, up; a slip goes to either perpendicular direction (1/3
    each); entering H or G ends the episode, G paying 1."""
    rows, cols = len(desc), len(desc[0])
    moves = [(0, -1), (1, 0), (0, 1), (-1, 0)]
    transitions, reward = {}, {}
    for r, c in itertools.product(range(rows), range(cols)):
        if desc[r][c] in "HG":
            continue
        s = f"s{r * cols + c}"
        for a in range(4):
            directions = [(a - 1) % 4, a, (a + 1) % 4] if slippery else [a]
            out: dict[str, float] = {}
            pay = 0.0
            for d in directions:
                nr = min(max(r + moves[d][0], 0), rows - 1)
                nc = min(max(c + moves[d][1], 0), cols - 1)
                tile = desc[nr][nc]
                target = END if tile in "HG" else f"s{nr * cols + nc}"
                out[target] = out.get(target, 0.0) + 1.0 / len(directions)
                pay += (1.0 if tile == "G" else 0.0) / len(directions)
            transitions[s, f"a{a}"], reward[s, f"a{a}"] = out, pay
    return transitions, reward


TAXI_MAP = [
    "+---------+",
    "|R: | : :G|",
    "| : | : : |",
    "| : : : : |",
    "| | : | : |",
    "|Y| : |B: |",
]


TAXI_STOPS = [(0, 0), (0, 4), (4, 0), (4, 3)]


def taxi() -> tuple[dict, dict, dict]:
    """State ((row·5 + col)·5 + passenger)·4 + destination; passenger 4 is in the taxi.
    Actions south, north, east, west (walls "|" block east and west), pickup, dropoff; −1 a
    step, −10 for an illegal pickup or dropoff, +20 for delivering, which ends the episode.
    Episodes start with the passenger at a stop other than the destination."""
    transitions, reward, start = {}, {}, {}
    for row, col, passenger, dest in itertools.product(range(5), range(5), range(5), range(4)):
        s = f"s{((row * 5 + col) * 5 + passenger) * 4 + dest}"
        if passenger < 4 and passenger != dest:
            start[s] = 1.0 / 300
        for a in range(6):
            r, c, p, pay, done = row, col, passenger, -1.0, False
            if a == 0:
                r = min(row + 1, 4)
            elif a == 1:
                r = max(row - 1, 0)
            elif a == 2 and TAXI_MAP[1 + row][2 * col + 2] == ":":
                c = min(col + 1, 4)
            elif a == 3 and TAXI_MAP[1 + row][2 * col] == ":":
                c = max(col - 1, 0)
            elif a == 4:
                if passenger < 4 and (row, col) == TAXI_STOPS[passenger]:
                    p = 4
                else:
                    pay = -10.0
            elif a == 5:
                if passenger == 4 and (row, col) == TAXI_STOPS[dest]:
                    pay, done = 20.0, True
                elif passenger == 4 and (row, col) in TAXI_STOPS:
                    p = TAXI_STOPS.index((row, col))
                else:
                    pay = -10.0
            target = END if done else f"s{((r * 5 + c) * 5 + p) * 4 + dest}"
            transitions[s, f"a{a}"], reward[s, f"a{a}"] = {target: 1.0}, pay
    return transitions, reward, start


MOVES = [(1, 0), (0, 1), (-1, 0), (0, -1)]  # MiniGrid's directions: east, south, west, north


def layout_of(env) -> dict[tuple[int, int], str]:
    """Every cell's object type in ``env`` after a reset with seed 0."""
    env.reset(seed=0)
    grid = env.unwrapped.grid
    return {
        (x, y): (grid.get(x, y).type if grid.get(x, y) is not None else "empty")
        for x in range(grid.width)
        for y in range(grid.height)
    }


def steps_to_goal(layout: dict[tuple[int, int], str]) -> int:
    """Fewest actions (turn left, turn right, forward) from (1, 1) facing east to entering
    the goal, never entering lava: breadth-first search over (x, y, direction)."""
    first = (1, 1, 0)
    seen, todo = {first: 0}, deque([first])
    while todo:
        x, y, d = todo.popleft()
        dx, dy = MOVES[d]
        ahead = layout[x + dx, y + dy]
        if ahead == "goal":
            return seen[x, y, d] + 1
        nexts = [(x, y, (d - 1) % 4), (x, y, (d + 1) % 4)]
        if ahead == "empty":
            nexts.append((x + dx, y + dy, d))
        for n in nexts:
            if n not in seen:
                seen[n] = seen[x, y, d] + 1
                todo.append(n)
    raise AssertionError("no way to the goal")


def careful(view: np.ndarray) -> np.ndarray:
    """Forward unless the cell ahead (view[3, 5]: the agent sits at the bottom middle) is
    lava or wall, then mostly turn; a little of everything always."""
    ahead = int(view[3, 5, 0])  # MiniGrid object index: 2 wall, 9 lava
    p = np.full(7, 0.01)
    p[:3] = (0.45, 0.45, 0.05) if ahead in (2, 9) else (0.12, 0.12, 0.71)
    return p / p.sum()
