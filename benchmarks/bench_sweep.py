"""Full diagnoses of small random worlds per second, against pymdptoolbox solving the
same worlds one by one, in one run.

The worlds are a sweep's (`alignlens.sweep.generator`, 16 states, 4 actions, 2
successors). A full diagnosis is everything a sweep row holds: the objective-level
analysis (optima, worst values, all optimal-set extremes, the λ-set), the exhaustive
optimiser's representative, its returns and every lens's verdict (`diagnose_world`
without the store). The peer solves only: pymdptoolbox `ValueIteration` (constructor
and run, ε = 0.01) on each world's training environment under R.

Targets (issue 7): ≥ 10^4 diagnoses/s, and ≥ 10× pymdptoolbox's solve-only rate.

Run: python benchmarks/bench_sweep.py [--worlds 200]
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numpy as np

from alignlens import world_from_dict
from alignlens.sweep.generator import WorldSpec, random_world
from alignlens.sweep.runner import diagnose_world
from alignlens.world.model import Environment
from bench_solvers import pymdptoolbox_matrices


def absorbing(env: Environment) -> Environment:
    """The same environment with terminal states made absorbing (a self-loop of reward 0),
    the form pymdptoolbox accepts: every row of its matrices must sum to 1."""
    next_state, prob = env.next_state.copy(), env.prob.copy()
    terminal = np.flatnonzero(env.terminal)
    next_state[terminal] = terminal[:, None, None]
    prob[terminal] = 0.0
    prob[terminal, :, 0] = 1.0
    return replace(env, next_state=next_state, prob=prob)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=200)
    args = parser.parse_args()
    import mdptoolbox.mdp

    spec = WorldSpec()
    seeds = range(args.worlds)
    worlds = [world_from_dict(random_world(spec, s)) for s in seeds]
    diagnose_world(spec, 10**6, "exhaustive")  # warm-up: imports, first compilations

    start = time.perf_counter()
    for s in seeds:
        diagnose_world(spec, s, "exhaustive")
    ours = args.worlds / (time.perf_counter() - start)

    problems = [(pymdptoolbox_matrices(absorbing(w.train)), w.base, w.discount) for w in worlds]
    start = time.perf_counter()
    for matrices, reward, gamma in problems:
        mdptoolbox.mdp.ValueIteration(matrices, reward, gamma, epsilon=0.01).run()
    theirs = args.worlds / (time.perf_counter() - start)

    print(
        f"{args.worlds} random worlds, {spec.states} states, {spec.actions} actions; "
        f"{os.cpu_count()} CPU cores"
    )
    print(f"  alignlens full diagnoses (one at a time)  {ours:>10,.0f} /s   (target ≥ 10,000)")
    print(f"  pymdptoolbox ValueIteration, solve only   {theirs:>10,.0f} /s")
    print(f"  ratio                                     {ours / theirs:>10.2f}×  (target ≥ 10×)")


if __name__ == "__main__":
    main()
