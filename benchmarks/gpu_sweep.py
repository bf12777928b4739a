"""A million small worlds fully diagnosed in one command on one accelerator.

Draws ``--worlds`` random worlds (the sweep's defaults: 16 states, 4 actions, start
shift; seeds 0 … N − 1), computes every number of their analyses on the device
(`numbers_many`, ``--chunk`` worlds per call, one vmapped step per call), then builds
each world's analysis and applies the five lenses world by world in ``--processes`` CPU
processes; the few worlds the batched path leaves unsettled are diagnosed there by the
per-world path. Prints the time of each phase, the verdicts per lens and the claims.

Target (issue 7): under one minute on one H100. ``--smoke`` shrinks it to a CPU run.

Run: python benchmarks/gpu_sweep.py [--worlds 1000000] [--chunk 65536] [--processes 16]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def cpu_only() -> None:
    """Worker processes stay off the accelerator, and their compiled loops on one thread
    (the processes already share the cores)."""
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")
    import numba

    numba.set_num_threads(1)


def lenses_of(seeds: list[int], numbers) -> tuple[dict[str, Counter], Counter]:
    """Verdict counts per lens and claim counts of the worlds ``seeds`` (in a worker)."""
    from alignlens.diagnosis import diagnoses_many
    from alignlens.sweep.claims import LENSES, claims
    from alignlens.sweep.generator import WorldSpec
    from alignlens.sweep.runner import diagnose_alone
    from alignlens.tolerances import Tolerances

    if numbers is None:  # a warm-up: the imports only
        return {}, Counter()
    spec = WorldSpec()
    tol = Tolerances(deploy_share=spec.deploy_share)
    names = [f"random-{s}" for s in seeds]
    diagnoses = diagnoses_many(
        names, numbers, tol, policy="exhaustive (worst-deployment)", optimizer="exhaustive"
    )
    verdicts: dict[str, Counter] = {lens: Counter() for lens in LENSES}
    claim_counts: Counter = Counter()
    for seed, diagnosis in zip(seeds, diagnoses, strict=True):
        if diagnosis is None:
            diagnosis = diagnose_alone(spec, seed, "exhaustive")
            claim_counts["per-world path"] += 1
        for lens in LENSES:
            verdicts[lens][str(diagnosis.verdicts[lens].category)] += 1
        claim_counts.update(claims(diagnosis))
    return verdicts, claim_counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=65_536)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--smoke", action="store_true", help="a CPU-sized run")
    args = parser.parse_args()
    if args.smoke:
        args.worlds, args.chunk, args.processes = 4096, 1024, 2
    total = time.perf_counter()

    import jax
    import numpy as np

    from alignlens.solve.analyze_many import numbers_many
    from alignlens.sweep.generator import WorldSpec, random_batch
    from alignlens.tolerances import Tolerances

    spec = WorldSpec()
    tol = Tolerances(deploy_share=spec.deploy_share)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(args.processes, mp_context=context, initializer=cpu_only)
    warm = pool.map(lenses_of, [[]] * args.processes, [None] * args.processes)

    start = time.perf_counter()
    warmup = random_batch(spec, np.arange(args.chunk)).stacked()
    numbers_many(warmup, tol, chunk=args.chunk)
    compiled = time.perf_counter() - start

    start = time.perf_counter()
    parts, drawing = [], 0.0
    for at in range(0, args.worlds, args.chunk):
        seeds = np.arange(at, min(at + args.chunk, args.worlds))
        t = time.perf_counter()
        stacked = random_batch(spec, seeds).stacked()
        drawing += time.perf_counter() - t
        parts.append((seeds, numbers_many(stacked, tol, chunk=args.chunk)))
    device = time.perf_counter() - start

    start = time.perf_counter()
    list(warm)
    jobs = []
    for seeds, numbers in parts:
        for rows in np.array_split(np.arange(len(seeds)), args.processes):
            jobs.append(pool.submit(lenses_of, seeds[rows].tolist(), numbers.take(rows)))
    verdicts: dict[str, Counter] = {}
    claim_counts: Counter = Counter()
    for job in jobs:
        v, c = job.result()
        for lens, counts in v.items():
            verdicts.setdefault(lens, Counter()).update(counts)
        claim_counts.update(c)
    lenses = time.perf_counter() - start
    pool.shutdown()
    total = time.perf_counter() - total

    engine = "compiled Numba loop" if jax.default_backend() == "cpu" else "vmapped JAX program"
    print(
        f"{args.worlds:,} worlds on {jax.devices()[0].device_kind} ({jax.default_backend()}; "
        f"batched numbers by the {engine})"
    )
    rows = [
        (f"compile (one call of {args.chunk:,})", f"{compiled:.1f} s"),
        ("draw + batched numbers on the device", f"{device:.1f} s (drawing {drawing:.1f} s)"),
        (f"analyses + lenses, {args.processes} CPU processes", f"{lenses:.1f} s"),
        ("total wall (one command, all included)", f"{total:.1f} s (target < 60 s)"),
        ("worlds left to the per-world path", f"{claim_counts['per-world path']:,}"),
    ]
    for label, value in rows:
        print(f"  {label:<42} {value}")
    for claim in ("1", "2", "3"):
        print(
            f"  claim {claim}: checked {claim_counts[f'claim{claim}_checked']:,}, "
            f"violations {claim_counts[f'claim{claim}_violated']}"
        )
    print(f"  claim 4: λ-dependent in {claim_counts['claim4_lambda_dependent']:,} worlds")
    for lens, counts in verdicts.items():
        print(f"  {lens:<10} " + ", ".join(f"{k} {n:,}" for k, n in sorted(counts.items())))


if __name__ == "__main__":
    main()
