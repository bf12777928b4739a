"""Run a sweep: random worlds, an optimiser on each, a diagnosis, a row in the store.

World i of a sweep with seed S is `random_world(spec, S + i)`. Rows are computed in
batches (in this process, or in a pool of worker processes); a batch is drawn and
analysed in one call each (`random_batch`, `alignlens.solve.batched.analyze`) and committed
in one transaction, so an interrupted sweep resumes where it stopped: rerunning the same
command computes only the missing rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from alignlens.diagnosis import diagnose, diagnoses_many
from alignlens.errors import AlignlensError
from alignlens.lenses import lens_names
from alignlens.limits import check_fits, table_bytes
from alignlens.optimizers.optimizer import Exhaustive, ExhaustiveConfig, PolicyGradient
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient_many
from alignlens.policies.enumerated import observation_policies
from alignlens.policies.tabular import TabularPolicy
from alignlens.report.document import document_of
from alignlens.sensitivity import fragile
from alignlens.sweep.claims import claims, summary
from alignlens.sweep.generator import WorldBatch, WorldSpec, random_batch, world_document
from alignlens.sweep.store import open_store
from alignlens.tolerances import Tolerances
from alignlens.world import world_from_dict

if TYPE_CHECKING:
    from alignlens.diagnosis import Diagnosis
    from alignlens.world import World

SweepOptimizer = Literal["exhaustive", "policy-gradient"]
Executor = Literal["local", "ray"]
OPTIMIZERS: tuple[str, ...] = get_args(SweepOptimizer)
TIE_BREAK = "worst-deployment"
PG_STEPS = 100
EXECUTORS: tuple[str, ...] = get_args(Executor)
BATCH = 32


def diagnose_world(spec: WorldSpec, world_seed: int, optimizer: str) -> dict[str, Any]:
    """The row of one world: its diagnosis document, every verdict, the claims."""
    return _rows_of(spec, [world_seed], optimizer)[0]


def _rows_of(spec: WorldSpec, seeds: Sequence[int], optimizer: str) -> list[dict[str, Any]]:
    """The rows of a batch of worlds: each world's diagnosis document, verdicts and claims."""
    if spec.shift == "aliased":  # drawn in one call, diagnosed one by one
        batch = random_batch(spec, seeds)
        diagnoses = [
            _diagnose(_world(batch, i), spec, seed, optimizer) for i, seed in enumerate(seeds)
        ]
    else:
        diagnoses = diagnose_batch(random_batch(spec, seeds), optimizer)
    return [
        {
            "world_seed": s,
            "optimizer": optimizer,
            "spec": spec.as_dict(),
            "verdicts": {lens: str(v.category) for lens, v in d.verdicts.items()},
            "fragile": fragile(d.analysis, d.verdicts),
            **claims(d),
            "document": document_of(d, by_share=False),
        }
        for s, d in zip(seeds, diagnoses, strict=True)
    ]


def diagnose_batch(batch: WorldBatch, optimizer: str) -> list[Diagnosis]:
    """The diagnoses of a drawn batch of tabular-class worlds, analysed in one batched call
    (`numbers_many`); a world the batched path cannot settle exactly is diagnosed on its
    own. Exhaustive search (the perfect optimiser) picks the optimal policy worst in
    deployment; policy gradient (an imperfect one: 100 steps of exact-gradient softmax
    policy gradient) trains the whole batch in one vmapped call."""
    from alignlens.solve.batched.analyze import numbers_many

    spec, seeds = batch.spec, batch.seeds.tolist()
    stacked = batch.stacked()
    tol = Tolerances(deploy_share=spec.deploy_share)
    if optimizer == "exhaustive":
        policies, name = None, f"exhaustive ({TIE_BREAK})"
    else:
        config = PolicyGradientConfig(steps=PG_STEPS)
        worlds = [_world(batch, i) for i in range(len(seeds))]
        learned = policy_gradient_many(worlds, config, list(seeds))
        policies = np.stack([r.policy.train for r in learned])
        name = learned[0].policy.name
    numbers = numbers_many(stacked, tol, policies)
    diagnoses = diagnoses_many(stacked.names, numbers, tol, policy=name, optimizer=optimizer)
    return [
        d
        if d is not None
        else _diagnose(
            _world(batch, i), spec, seeds[i], optimizer, None if policies is None else policies[i]
        )
        for i, d in enumerate(diagnoses)
    ]


def _world(batch: WorldBatch, i: int) -> World:

    seed = int(batch.seeds[i])
    return world_from_dict(world_document(batch, i), source=f"random world {seed}")


def diagnose_alone(
    spec: WorldSpec, seed: int, optimizer: str, policy: np.ndarray | None = None
) -> Diagnosis:
    """The per-world path for the world of one seed (see `_diagnose`)."""
    return _diagnose(_world(random_batch(spec, [seed]), 0), spec, seed, optimizer, policy)


def _diagnose(
    world: World, spec: WorldSpec, seed: int, optimizer: str, policy: np.ndarray | None = None
) -> Diagnosis:
    """The per-world path: a compiled world → optimiser → diagnosis.

    The optimiser is exhaustive search, or policy gradient whose learned ``policy`` (from the
    batch) is given. An "aliased" world's class is its observation policies, enumerated:
    exhaustive search over them, or policy gradient over mixtures of them (trained here)."""

    cls = observation_policies(world) if spec.shift == "aliased" else None
    if optimizer == "exhaustive":
        found = Exhaustive(ExhaustiveConfig(TIE_BREAK), cls).search(world)
        return diagnose(
            world,
            found.policy,
            policy_class=cls,
            objectives=found.objectives,
            optimizer=optimizer,
            cache=found.cache,
        )
    if policy is None:
        learned = PolicyGradient(PolicyGradientConfig(steps=PG_STEPS), cls)(world, seed).policy
    else:
        learned = TabularPolicy.fixed(f"policy gradient ({PG_STEPS} steps)", policy)
    return diagnose(world, learned, policy_class=cls, optimizer=optimizer)


def run_sweep(
    spec: WorldSpec,
    worlds: int,
    seed: int,
    store: str,
    *,
    optimizer: str = "exhaustive",
    workers: int = 1,
    executor: str = "local",
    address: str | None = None,
    batch: int = BATCH,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Diagnose worlds seed … seed + worlds − 1 that the store lacks, ``batch`` worlds to a
    transaction, and summarise all of them. ``executor`` "local" computes batches in this
    process (``workers`` = 1) or a process pool; "ray" sends them to the Ray cluster at
    ``address`` (a new local Ray instance when None). ``on_batch(done, total)`` reports
    progress after each committed batch."""
    if optimizer not in OPTIMIZERS:
        raise AlignlensError(
            f"unknown optimiser {optimizer!r}",
            field="optimizer",
            fix=f"use one of {', '.join(OPTIMIZERS)}",
        )
    if executor not in EXECUTORS:
        raise AlignlensError(
            f"unknown executor {executor!r}",
            field="executor",
            fix=f"use one of {', '.join(EXECUTORS)}",
        )
    if worlds < 1 or workers < 1:
        field = "worlds" if worlds < 1 else "workers"
        raise AlignlensError(
            f"{field} must be at least 1", field=field, fix="give a positive count"
        )
    check_fits(
        table_bytes(spec.states + spec.extra, spec.actions, spec.successors) * 2 * batch * workers,
        f"{workers} × {batch} worlds of {spec.states:,} states × {spec.actions} actions × "
        f"{spec.successors:,} successors at a time",
        field="states" if spec.states > spec.successors else "successors",
        fix="give fewer states, actions or successors (or fewer workers)",
    )
    wanted = range(seed, seed + worlds)
    existed = Path(store).exists()
    try:
        with open_store(store, spec.as_dict(), lens_names()) as results:
            finished = results.done(optimizer)  # one query: resuming is linear in the work
            done = sum(1 for s in finished if s in wanted)
            batches = _batches(wanted, finished, batch)
            if on_batch:
                on_batch(done, worlds)
            computed = (
                _map_ray(spec, batches, optimizer, address)
                if executor == "ray"
                else _map(spec, batches, optimizer, workers)
            )
            for rows in computed:  # each batch committed as it comes: nothing waits for all
                results.add(rows)
                done += len(rows)
                if on_batch:
                    on_batch(done, worlds)
            rows = [r for r in results.rows(optimizer) if r["world_seed"] in wanted]
    except BaseException:
        if not existed and _holds_no_rows(Path(store)):
            Path(store).unlink(missing_ok=True)  # a failed first run leaves no store behind
        raise
    return summary(rows)


def _batches(wanted: range, finished: set[int], size: int) -> Iterator[list[int]]:
    """The seeds of ``wanted`` not in ``finished``, ``size`` at a time, lazily (a request
    for 10⁹ worlds starts at once and holds one batch in memory)."""
    batch: list[int] = []
    for s in wanted:
        if s not in finished:
            batch.append(s)
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def _holds_no_rows(path: Path) -> bool:
    import sqlite3

    try:
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
    except sqlite3.DatabaseError:
        return False


def _rows_in_worker(spec: WorldSpec, seeds: Sequence[int], optimizer: str) -> list[dict]:
    """`_rows_of` in one of several worker processes: its compiled CPU loops (Numba) run on
    one thread, since the processes already share the cores (several processes each
    running parallel loops spin-wait on one another: a per-world diagnosis took ~100 s
    instead of 0.3 s)."""
    import numba

    numba.set_num_threads(1)
    return _rows_of(spec, seeds, optimizer)


def _map(spec: WorldSpec, batches: Iterator[list[int]], optimizer: str, workers: int):
    """The rows of each batch, in order: in this process, or in ``workers`` processes (at
    most two batches per worker in flight)."""
    if workers == 1:
        for seeds in batches:
            yield _rows_of(spec, seeds, optimizer)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # JAX does not survive fork
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from _in_order(
            (pool.submit(_rows_in_worker, spec, seeds, optimizer) for seeds in batches),
            lambda future: future.result(),
            2 * workers,
        )


def _in_order(started: Iterator[Any], result: Callable[[Any], Any], window: int) -> Iterator:
    """The results of lazily started tasks, in order, with at most ``window`` running."""
    pending: deque = deque()
    for task in started:
        pending.append(task)
        if len(pending) >= window:
            yield result(pending.popleft())
    while pending:
        yield result(pending.popleft())


def _map_ray(
    spec: WorldSpec, batches: Iterator[list[int]], optimizer: str, address: str | None
) -> Iterator[list[dict[str, Any]]]:
    """The rows of each batch, in order, computed by Ray tasks (alignlens must be installed
    where the cluster's workers run)."""
    try:
        import ray
    except ImportError:
        raise AlignlensError(
            "the Ray executor needs ray",
            field="executor",
            fix='pip install "alignlens[ray]", or use executor local',
        ) from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except ConnectionError as e:
            raise AlignlensError(
                f"cannot reach a Ray cluster at {address!r} ({e})",
                field="address",
                fix="give the address of a running cluster (ray status prints it), or none",
            ) from None
    task = ray.remote(_rows_in_worker)
    window = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
    yield from _in_order(
        (task.remote(spec, seeds, optimizer) for seeds in batches), ray.get, window
    )
