"""The tour: every scenario with its own optimiser, then again under exhaustive search where
it can be, run side by side in worker processes.

The runs are split into groups, each run by one worker in order: the neural scenarios
together (they share one compiled PPO program, so the second one reuses the first one's
compilation), every other run alone, longest first. Each worker reports its stages
(`alignlens.progress`) through a queue, so the caller can show which scenario is at
which stage. The runs are the same as `run_scenario` gives one at a time: same seeds,
same numbers.
"""

from __future__ import annotations

import copyreg
import multiprocessing
import os
import queue
import types
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from alignlens.progress import Amount, listening
from alignlens.scenarios.catalogue import run_scenario, scenarios
from alignlens.scenarios.scenario import ScenarioRun

NEURAL_OPTIMIZERS = ("ppo",)
EXHAUSTIVE = "exhaustive"

Listener = Callable[[str, str, Amount, Amount], None]  # run label, stage, done, total


@dataclass(frozen=True)
class TourJob:
    """One run of the tour: a scenario, with its own optimiser or with exhaustive search.

    Attributes:
        scenario: the scenario id.
        perfect: whether this is the exhaustive run of a scenario whose own optimiser is
            imperfect (the tour's second table).
    """

    scenario: str
    perfect: bool = False

    @property
    def label(self) -> str:
        return f"{self.scenario} (exhaustive)" if self.perfect else self.scenario


def quick(scenario_id: str) -> bool:
    """Whether a scenario runs in well under 2 s with its own optimiser: all but the neural
    (an unknown id is quick: it fails at once)."""
    entry = scenarios().get(scenario_id)
    return entry is None or entry.default_optimizer not in NEURAL_OPTIMIZERS


def tour_jobs() -> list[TourJob]:
    """Every run of the tour, in the catalogue's order: each scenario with its own
    optimiser, and under exhaustive search where that is not already its own."""
    jobs = []
    for s in scenarios().values():
        jobs.append(TourJob(s.id))
        if EXHAUSTIVE in s.optimizers and s.default_optimizer != EXHAUSTIVE:
            jobs.append(TourJob(s.id, perfect=True))
    return jobs


def job_groups(jobs: Sequence[TourJob]) -> list[list[TourJob]]:
    """The groups one worker runs in order: the neural runs together, first (the longest),
    then every other run alone."""
    catalogue = scenarios()

    def neural(job: TourJob) -> bool:
        return not job.perfect and catalogue[job.scenario].default_optimizer in NEURAL_OPTIMIZERS

    together = [j for j in jobs if neural(j)]
    return ([together] if together else []) + [[j] for j in jobs if not neural(j)]


def run_tour(
    *,
    workers: int | None = None,
    listener: Listener | None = None,
    arrived: Callable[[ScenarioRun], None] | None = None,
) -> tuple[list[ScenarioRun], list[ScenarioRun]]:
    """The tour's runs: every scenario with its own optimiser, and the exhaustive runs of
    those whose own optimiser is imperfect, each list in the catalogue's order.

    ``workers`` processes run the groups of `job_groups` (default: one per CPU core, at
    most two; 1 runs everything in this process). ``listener`` hears every stage of every
    run as (run label, stage, done, total); ``arrived`` gets each scenario's run with its
    own optimiser as soon as it is done, in this process (to draw its figures while the
    others still run). Call it under ``if __name__ == "__main__":`` in a script: the
    workers start by importing the script."""
    jobs = tour_jobs()
    count = workers or min(2, os.cpu_count() or 1)
    tell = listener or (lambda *_: None)

    def arrive(job: TourJob, run: ScenarioRun) -> None:
        if arrived is not None and not job.perfect:
            arrived(run)

    if count <= 1:
        results = {}
        for job in jobs:
            results[job] = _run_one(job, tell)
            arrive(job, results[job])
    else:
        results = _run_in_workers(job_groups(jobs), count, tell, arrive)
    runs, perfect = [], []
    for job in jobs:  # a scenario's exhaustive run comes right after its own
        run = results[job]
        (perfect if job.perfect else runs).append(run)
        if not job.perfect and run.optimizer == EXHAUSTIVE:
            perfect.append(run)  # its own optimiser is the perfect one: the same run
    return runs, perfect


def _run_one(job: TourJob, send: Callable[..., None]) -> ScenarioRun:
    """One run, with its stages sent as (label, stage, done, total)."""
    with listening(lambda stage, done, total: send(job.label, stage, done, total)):
        send(job.label, "running", None, None)
        run = run_scenario(job.scenario, EXHAUSTIVE if job.perfect else None)
        send(job.label, "done", 1, 1)
    return run


def _run_in_workers(
    groups: list[list[TourJob]],
    count: int,
    tell: Listener,
    arrive: Callable[[TourJob, ScenarioRun], None],
) -> dict[TourJob, ScenarioRun]:
    # Worker processes start fresh ("spawn"): a fork would copy this process's threads
    # and any JAX runtime state, which JAX does not support.
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        updates = manager.Queue()
        with ProcessPoolExecutor(
            max_workers=min(count, len(groups)),
            mp_context=context,
            initializer=_start_worker,
        ) as pool:
            pending: set[Future] = {pool.submit(_run_group, g, updates) for g in groups}
            results: dict[TourJob, ScenarioRun] = {}
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_COMPLETED)
                _drain(updates, tell)
                for future in done:
                    for job, run in future.result().items():
                        results[job] = ScenarioRun(scenarios()[job.scenario], *run)
                        arrive(job, results[job])
            _drain(updates, tell)
    return results


def _drain(updates: Any, tell: Listener) -> None:
    while True:
        try:
            tell(*updates.get_nowait())
        except queue.Empty:
            return


def _run_group(group: list[TourJob], updates: Any) -> dict[TourJob, tuple]:
    """A worker's share: its runs in order, each stage put on the ``updates`` queue. A run
    travels back without its scenario (whose ``run`` may be a closure), which the caller
    looks up again: (optimizer, seed, diagnosis, parameters)."""
    out = {}
    for job in group:
        run = _run_one(job, lambda *u: updates.put(u))
        out[job] = (run.optimizer, run.seed, run.diagnosis, dict(run.parameters))
    return out


def _start_worker() -> None:
    """Let the worker send records that hold read-only mappings (`MappingProxyType` cannot
    be pickled as it is): they travel as plain dicts and are wrapped again on arrival."""
    copyreg.pickle(types.MappingProxyType, _reduce_mapping)


def _reduce_mapping(m: types.MappingProxyType) -> tuple[Callable[..., Any], tuple[dict]]:
    return _mapping_proxy, (dict(m),)


def _mapping_proxy(d: dict) -> types.MappingProxyType:
    return types.MappingProxyType(d)
