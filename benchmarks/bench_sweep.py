"""Full diagnoses of small random worlds per second, against pymdptoolbox solving the
same worlds one by one, in one run.

The worlds are a sweep's (`alignlens.sweep.generator`, 16 states, 4 actions, 2
successors, start shift). A full diagnosis is everything a sweep row's verdicts rest on:
the objective-level analysis (optima, worst values, every optimal-set extreme, the
λ-set), the exhaustive optimiser's worst-deployment representative and its returns, and
every lens's verdict, applied world by world. Timed for alignlens:

- batched: a sweep's `diagnose_batch` — `numbers_many` (on the CPU a compiled Numba
  loop over the worlds, on all cores), then `diagnoses_many` (analyses and lenses), and
  the per-world path for any world the batched one leaves — in one process; and split
  over ``--workers`` processes as a sweep's ``--workers`` does, one thread each (each
  process warmed up and its worlds drawn first);
- one at a time: the per-world path (`diagnose` after `exhaustive`), on a subset.

Drawing the worlds is not timed (it is reported): the peer gets its matrices ready-made
too. The peer solves only: pymdptoolbox `ValueIteration` (constructor and run,
ε = 0.01) on each world's training environment under R.

Targets (issue 7): ≥ 10^4 diagnoses/s, and ≥ 10× pymdptoolbox's solve-only rate.

Run: python benchmarks/bench_sweep.py [--worlds 4096] [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numpy as np

from alignlens import world_from_dict
from alignlens.world.model import Environment
from bench_solvers import pymdptoolbox_matrices

SPEC_SEED = 0


def absorbing(env: Environment) -> Environment:
    """The same environment with terminal states made absorbing (a self-loop of reward 0),
    the form pymdptoolbox accepts: every row of its matrices must sum to 1."""
    next_state, prob = env.next_state.copy(), env.prob.copy()
    terminal = np.flatnonzero(env.terminal)
    next_state[terminal] = terminal[:, None, None]
    prob[terminal] = 0.0
    prob[terminal, :, 0] = 1.0
    return replace(env, next_state=next_state, prob=prob)


def single_threaded() -> None:
    """Worker processes run their compiled loops (Numba) on one thread each."""
    import numba

    numba.set_num_threads(1)


def draw(seeds: list[int]):
    """The worlds of ``seeds``, drawn as a sweep draws a batch."""
    from alignlens.sweep.generator import WorldSpec, random_batch

    return random_batch(WorldSpec(), seeds)


@functools.cache
def drawn(seeds: tuple[int, ...]):
    """The worlds of ``seeds``, drawn once per process."""
    return draw(list(seeds))


def diagnose_batched(seeds: list[int]) -> float:
    """Seconds for full diagnoses of the worlds of ``seeds`` as a sweep makes them
    (`diagnose_batch`: the batched path, and the per-world path for any world it leaves),
    drawn beforehand."""
    from alignlens.sweep.runner import diagnose_batch

    batch = drawn(tuple(seeds))
    start = time.perf_counter()
    diagnose_batch(batch, "exhaustive")
    return time.perf_counter() - start


def phases(seeds: list[int], repeats: int) -> tuple[float, float, int]:
    """(µs a world for the batched numbers on one thread, µs a world for the analyses and
    verdicts, how many worlds the batched path settles; the rest take the per-world one),
    medians of ``repeats``."""
    import numba

    from alignlens.diagnosis import diagnoses_many
    from alignlens.solve.batched.analyze import numbers_many
    from alignlens.tolerances import Tolerances

    batch = drawn(tuple(seeds))
    stacked = batch.stacked()
    tol = Tolerances(deploy_share=batch.spec.deploy_share)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    numbers_seconds, lenses_seconds = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        numbers = numbers_many(stacked, tol)
        numbers_seconds.append(time.perf_counter() - start)
        start = time.perf_counter()
        diagnoses_many(stacked.names, numbers, tol, policy="exhaustive", optimizer="exhaustive")
        lenses_seconds.append(time.perf_counter() - start)
    numba.set_num_threads(threads)
    per_world = 1e6 / len(seeds)
    return (
        statistics.median(numbers_seconds) * per_world,
        statistics.median(lenses_seconds) * per_world,
        int(numbers.ok.sum()),
    )


def one_at_a_time(seeds: list[int]) -> float:
    """Seconds for the per-world path on ``seeds``."""
    from alignlens.diagnosis import diagnose
    from alignlens.optimizers.exhaustive import exhaustive
    from alignlens.sweep.generator import WorldSpec, random_world

    worlds = [world_from_dict(random_world(WorldSpec(), s)) for s in seeds]
    start = time.perf_counter()
    for w in worlds:
        found = exhaustive(w, tie_break="worst-deployment")
        diagnose(w, found.policy, objectives=found.objectives, optimizer="exhaustive")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--alone", type=int, default=200, help="worlds for the per-world path")
    args = parser.parse_args()
    import mdptoolbox.mdp

    from alignlens.sweep.generator import WorldSpec, random_world

    spec = WorldSpec()
    seeds = list(range(args.worlds))
    diagnose_batched(seeds)  # warm-up: imports, compilation
    batched = statistics.median(args.worlds / diagnose_batched(seeds) for _ in range(args.repeats))
    numbers_us, lenses_us, settled = phases(seeds, args.repeats)
    draw_seconds = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        draw(seeds)
        draw_seconds.append(time.perf_counter() - start)
    drawing = args.worlds / statistics.median(draw_seconds)

    shares = [seeds[i :: args.workers] for i in range(args.workers)]
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(args.workers, mp_context=context, initializer=single_threaded) as pool:
        list(pool.map(diagnose_batched, shares * 2))  # warm-up (and draws) in every worker
        walls = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            list(pool.map(diagnose_batched, shares))
            walls.append(time.perf_counter() - start)
    parallel = args.worlds / statistics.median(walls)

    one_at_a_time(seeds[:5])  # warm-up
    alone = args.alone / one_at_a_time(seeds[: args.alone])

    worlds = [world_from_dict(random_world(spec, s)) for s in seeds[: args.alone]]
    problems = [(pymdptoolbox_matrices(absorbing(w.train)), w.base, w.discount) for w in worlds]
    start = time.perf_counter()
    for matrices, reward, gamma in problems:
        mdptoolbox.mdp.ValueIteration(matrices, reward, gamma, epsilon=0.01).run()
    theirs = len(problems) / (time.perf_counter() - start)

    print(
        f"{args.worlds} random worlds ({spec.states} states, {spec.actions} actions, "
        f"{spec.shift} shift); {os.cpu_count()} CPU cores; medians of {args.repeats}"
    )
    print(f"  drawing the worlds (not timed below)        {drawing:>10,.0f} /s")
    print(
        f"  batched full diagnoses, 1 process          {batched:>10,.0f} /s   "
        f"({settled} of {args.worlds} settled batched, the rest one at a time)"
    )
    print(
        f"    a world on one thread: batched numbers {numbers_us:.0f} µs, "
        f"analyses and lenses {lenses_us:.0f} µs"
    )
    print(f"  batched full diagnoses, {args.workers} processes        {parallel:>10,.0f} /s")
    print(f"  per-world full diagnoses (one at a time)   {alone:>10,.0f} /s")
    print(f"  pymdptoolbox ValueIteration, solve only    {theirs:>10,.0f} /s")
    best = max(batched, parallel)
    print(f"  best alignlens rate                        {best:>10,.0f} /s   (target ≥ 10,000)")
    print(f"  ratio to pymdptoolbox                      {best / theirs:>10.1f}×  (target ≥ 10×)")


if __name__ == "__main__":
    main()
