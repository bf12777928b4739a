"""Diagnosing a large world against one optimal solve of the same world, in one run.

The world: two 224×224 open gridworld levels (about 10^5 states), one for training and
one for deployment. The base objective rewards the goal; the intended one also penalises
a lava strip that only the deployment level has; there is one candidate goal. The
diagnosed policy is a planner that chases the goal. "One optimal solve" is
`optimize(train, base)` (value iteration with its proven bound, then the policy-iteration
polish). Diagnosis is everything: the objective-level analysis (optima, worst values,
optimal sets, all extremes, the λ-set) plus the policy's returns and the five lenses.

With ``--slip`` the moves are stochastic, so every policy evaluation (the reference
solve's included) needs a sparse factorisation, or Krylov steps preconditioned by the
factors of a policy a few states away; without it, deterministic policies and the
planner's even split over tied actions (it only moves towards the goal) are evaluated in
one walk over the graph, and only the uniformly random policy needs a factorisation.

Run: python benchmarks/bench_diagnose.py [--side N] [--slip P]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numpy as np

from alignlens import diagnose, world_from_dict
from alignlens.policies.planner import planner
from alignlens.policies.tabular import MesaObjective
from alignlens.solve import optimize


def world(side: int, slip: float = 0.0):
    def level(hazard: bool) -> str:
        rows = ["#" * (side + 2)]
        for r in range(side):
            cells = ["."] * side
            if r == 0:
                cells[0] = "A"
            if r == side - 1:
                cells[-1] = "G"
            if hazard and r == side // 2:
                cells[1 : side - 1] = ["L"] * (side - 2)
            rows.append("#" + "".join(cells) + "#")
        rows.append("#" * (side + 2))
        return "\n".join(rows)

    return world_from_dict(
        {
            "name": f"open-{side}",
            "discount": 0.99,
            "gridworld": {
                "legend": {"#": "wall", ".": "floor", "A": "start", "G": "goal", "L": "lava"},
                "terminal": ["goal"],
                "step_cost": -0.01,
                "slip": slip,
                "train": [level(False)],
                "deploy": [level(True)],
            },
            "objectives": {
                "base": {"goal": 1.0},
                "intended": {"goal": 1.0, "lava": -1.0},
                "goals": {"reach_goal": {"goal": 1.0}},
            },
        }
    )


def timed(f) -> float:
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--slip", type=float, default=0.0, help="chance a move goes astray")
    args = parser.parse_args()
    w = world(args.side, args.slip)
    print(f"world: {w.n_states:,} states, {w.n_actions} actions")
    # The policy diagnosed: a planner that chases the goal and ignores the lava (built
    # before timing; diagnosis evaluates it and reads its declared mesa-objective).
    policy = planner(w, MesaObjective("reach_goal", w.goals["reach_goal"]))
    diagnose(w, policy)  # compile every kernel once
    solve, full = [], []
    for _ in range(args.repeats):  # interleaved, so both see the same machine load
        solve.append(timed(lambda: optimize(w.train, w.base)))
        full.append(timed(lambda: diagnose(w, policy)))
    s, d = float(np.median(solve)), float(np.median(full))
    print(f"one optimal solve   {s * 1e3:9.1f} ms (median of {args.repeats})")
    print(f"full diagnosis      {d * 1e3:9.1f} ms")
    print(f"ratio               {d / s:9.2f}×   (target ≤ 3×)")


if __name__ == "__main__":
    main()
