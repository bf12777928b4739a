"""Random tiny worlds for property tests, an independent dense model of a world dict, and
the hand-worked door world.

`dense_model` reads the world dict directly (not through alignlens), so that brute-force
answers computed from it are a second, independent method.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from dataclasses import dataclass

import numpy as np


def random_world_dict(
    rng: np.random.Generator,
    *,
    n_states: int = 5,
    n_actions: int = 2,
    n_succ: int = 2,
    discount: float = 0.8,
    shift: bool = False,
) -> dict:
    """States s0..s{n-1} plus a terminal "T"; quarter-grid probabilities; small integer rewards
    (ties are common). Deployment starts elsewhere; with ``shift`` its dynamics differ."""
    states = [f"s{i}" for i in range(n_states)] + ["T"]
    actions = [f"a{j}" for j in range(n_actions)]

    def transitions() -> list:
        rows = []
        for s in states[:-1]:
            for a in actions:
                succ = rng.choice(states, size=n_succ, replace=True)
                weights = rng.integers(1, 4, size=n_succ).astype(float)
                weights /= weights.sum()
                for nxt, p in zip(succ, weights, strict=True):
                    rows.append([s, a, str(nxt), float(p)])
        return rows

    train_rows = transitions()
    deploy_rows = transitions() if shift else train_rows

    def rewards() -> list:
        return [
            [s, a, float(rng.integers(-1, 2))]
            for s in states[:-1]
            for a in actions
            if rng.random() < 0.6
        ]

    def start() -> dict:
        picks = rng.choice(n_states, size=2, replace=False)
        return {f"s{picks[0]}": 0.5, f"s{picks[1]}": 0.5}

    return {
        "name": "random",
        "discount": discount,
        "states": states,
        "actions": actions,
        "train": {"start": start(), "transitions": train_rows, "terminal": ["T"]},
        "deploy": {"start": start(), "transitions": deploy_rows, "terminal": ["T"]},
        "objectives": {"base": rewards(), "intended": rewards()},
    }


@dataclass
class DenseModel:
    """P[e][a, s, s'], rewards [S, A], start [S] per environment, terminal mask, discount."""

    P: dict[str, np.ndarray]
    reward: dict[str, np.ndarray]
    start: dict[str, np.ndarray]
    terminal: np.ndarray
    discount: float
    states: list[str]
    actions: list[str]

    def returns(self, env: str, objective: str, policy: tuple[int, ...]) -> float:
        """J of a deterministic policy (one action per state) by a dense linear solve."""
        n = len(self.states)
        live = ~self.terminal
        p_pi = np.array([self.P[env][policy[s], s] for s in range(n)])
        r_pi = np.array([self.reward[objective][s, policy[s]] for s in range(n)])
        p_pi[~live] = 0.0
        r_pi[~live] = 0.0
        v = np.linalg.solve(np.eye(n) - self.discount * p_pi, r_pi)
        return float(self.start[env] @ v)

    def reach(self, env: str, policy: tuple[int, ...]) -> set[int]:
        seen = {int(s) for s in np.flatnonzero(self.start[env] > 0)}
        frontier = list(seen)
        while frontier:
            s = frontier.pop()
            if self.terminal[s]:
                continue
            for t in np.flatnonzero(self.P[env][policy[s], s] > 0):
                if int(t) not in seen:
                    seen.add(int(t))
                    frontier.append(int(t))
        return seen

    def policies(self) -> list[tuple[int, ...]]:
        return list(itertools.product(range(len(self.actions)), repeat=len(self.states)))


def dense_model(world: dict) -> DenseModel:
    states, actions = world["states"], world["actions"]
    si = {s: i for i, s in enumerate(states)}
    ai = {a: i for i, a in enumerate(actions)}
    n, m = len(states), len(actions)
    P, start = {}, {}
    for env in ("train", "deploy"):
        p = np.zeros((m, n, n))
        for s, a, t, q in world[env]["transitions"]:
            p[ai[a], si[s], si[t]] += q
        P[env] = p
        start[env] = np.zeros(n)
        for s, q in world[env]["start"].items():
            start[env][si[s]] += q
    reward = {}
    for name in ("base", "intended"):
        r = np.zeros((n, m))
        for s, a, x in world["objectives"].get(name, []):
            if a == "*":
                r[si[s], :] += x
            else:
                r[si[s], ai[a]] += x
        reward[name] = r
    terminal = np.zeros(n, dtype=bool)
    for s in world["train"].get("terminal", []):
        terminal[si[s]] = True
    return DenseModel(P, reward, start, terminal, world["discount"], states, actions)


# A door world. Training starts at t0, where the exit (action "a") is red. Deployment
# starts at d0, where the exit is blue ("a") and a red object stands elsewhere ("b").
# Action "c" goes nowhere useful. Every action ends the episode.
DOORS = {
    "name": "doors",
    "discount": 0.9,
    "states": ["t0", "d0", "done"],
    "actions": ["a", "b", "c"],
    "train": {
        "start": {"t0": 1.0},
        "terminal": ["done"],
        "transitions": [[s, a, "done", 1.0] for s in ("t0", "d0") for a in ("a", "b", "c")],
    },
    "deploy": {
        "start": {"d0": 1.0},
        "terminal": ["done"],
        "transitions": [[s, a, "done", 1.0] for s in ("t0", "d0") for a in ("a", "b", "c")],
    },
    "objectives": {
        "base": [["t0", "a", 1.0], ["d0", "a", 1.0]],  # R rewards the exit
        "intended": [["t0", "a", 1.0], ["d0", "a", 1.0]],
        "goals": {"reach_red": [["t0", "a", 1.0], ["d0", "b", 1.0]]},
    },
}


def doors(base_rewards_red: bool = False) -> dict:
    d = copy.deepcopy(DOORS)
    if base_rewards_red:  # the proxy: R rewards reaching red, in deployment too
        d["objectives"]["base"] = [["t0", "a", 1.0], ["d0", "b", 1.0]]
    return d


def offset_world(near_gap: float) -> dict:
    """Rewards near 1e9 at γ = 0.9, so values near 1e10 and round-off's margin 1e-2. At a,
    "stay" earns 1e9 + 100 forever, "near" ``near_gap`` less, "go" leads to b, which earns
    1e9 forever: V*(a) = (1e9 + 100)/0.1 and W(a) = 1e9 + 0.9 · 1e10, a spread of 1000, so
    ε's bound on a step's gap is ε · 1000/10."""
    env = {
        "start": {"a": 1.0},
        "transitions": [
            ["a", "stay", "a", 1.0],
            ["a", "near", "a", 1.0],
            ["a", "go", "b", 1.0],
            *([["b", action, "b", 1.0] for action in ("stay", "near", "go")]),
        ],
    }
    base = [
        ["a", "stay", 1e9 + 100.0],
        ["a", "near", 1e9 + 100.0 - near_gap],
        ["a", "go", 1e9],
        *([["b", action, 1e9] for action in ("stay", "near", "go")]),
    ]
    return {
        "name": "offset",
        "discount": 0.9,
        "states": ["a", "b"],
        "actions": ["stay", "near", "go"],
        "train": env,
        "deploy": env,
        "objectives": {"base": base},
    }


def unchecked(cls: type, **values: object) -> object:
    """An instance of a frozen dataclass built past the tests' run-time type checks (as a
    user's call, which has none, builds it), then validated by the class's own checks:
    how a value outside a Literal's choices reaches the library's error."""
    made = object.__new__(cls)
    for f in dataclasses.fields(cls):
        object.__setattr__(made, f.name, values.get(f.name, f.default))
    made.__post_init__()
    return made
