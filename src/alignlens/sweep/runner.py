"""Run a sweep: random worlds, an optimiser on each, a diagnosis, a row in the store.

World i of a sweep with seed S is `random_world(spec, S + i)`. Rows are computed in
batches (in this process, or in a pool of worker processes) and each batch is committed
in one transaction, so an interrupted sweep resumes where it stopped: rerunning the same
command computes only the missing rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from alignlens.errors import AlignlensError
from alignlens.sweep.claims import LENSES, claims, summary
from alignlens.sweep.generator import WorldSpec, random_world
from alignlens.sweep.store import open_store

OPTIMIZERS = ("exhaustive", "policy-gradient")
EXECUTORS = ("local", "ray")
BATCH = 32


def diagnose_world(spec: WorldSpec, world_seed: int, optimizer: str) -> dict[str, Any]:
    """The row of one world: its diagnosis document, every verdict, the claims."""
    return _rows_of(spec, [world_seed], optimizer)[0]


def _rows_of(spec: WorldSpec, seeds: Sequence[int], optimizer: str) -> list[dict[str, Any]]:
    """The rows of a batch of worlds. Exhaustive search (the perfect optimiser, ties broken
    toward the worst deployment behaviour) runs world by world; policy gradient (an
    imperfect one: 100 steps of exact-gradient softmax policy gradient) trains the whole
    batch in one vmapped call."""
    from alignlens.diagnosis import diagnose
    from alignlens.world import world_from_dict

    worlds = [world_from_dict(random_world(spec, s), source=f"random world {s}") for s in seeds]
    if optimizer == "exhaustive":
        from alignlens.optimizers.exhaustive import exhaustive

        found = [exhaustive(w, tie_break="worst-deployment") for w in worlds]
        diagnoses = [
            diagnose(w, r.policy, objectives=r.objectives, optimizer=optimizer)
            for w, r in zip(worlds, found, strict=True)
        ]
    else:
        from alignlens.optimizers.policy_gradient import (
            PolicyGradientConfig,
            policy_gradient_many,
        )

        learned = policy_gradient_many(worlds, PolicyGradientConfig(steps=100), list(seeds))
        diagnoses = [
            diagnose(w, r.policy, optimizer=optimizer) for w, r in zip(worlds, learned, strict=True)
        ]
    return [
        {
            "world_seed": s,
            "optimizer": optimizer,
            "spec": spec.as_dict(),
            **{lens: str(d.verdicts[lens].category) for lens in LENSES},
            **claims(d),
            "document": d.document(),
        }
        for s, d in zip(seeds, diagnoses, strict=True)
    ]


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
            field="--optimizer",
            fix=f"use one of {', '.join(OPTIMIZERS)}",
        )
    if executor not in EXECUTORS:
        raise AlignlensError(
            f"unknown executor {executor!r}",
            field="--executor",
            fix=f"use one of {', '.join(EXECUTORS)}",
        )
    if worlds < 1 or workers < 1:
        field = "--worlds" if worlds < 1 else "--workers"
        raise AlignlensError(
            f"{field} must be at least 1", field=field, fix="give a positive count"
        )
    wanted = range(seed, seed + worlds)
    with open_store(store, spec.as_dict()) as results:
        todo = [s for s in wanted if s not in results.done(optimizer)]
        batches = [todo[i : i + batch] for i in range(0, len(todo), batch)]
        done = worlds - len(todo)
        if on_batch:
            on_batch(done, worlds)
        computed = (
            _map_ray(spec, batches, optimizer, address)
            if executor == "ray"
            else _map(spec, batches, optimizer, workers)
        )
        for rows in computed:
            results.add(rows)
            done += len(rows)
            if on_batch:
                on_batch(done, worlds)
        rows = [
            r for r in results.rows() if r["optimizer"] == optimizer and r["world_seed"] in wanted
        ]
    return summary(rows)


def _map(spec: WorldSpec, batches: list[list[int]], optimizer: str, workers: int):
    """The rows of each batch, in order: in this process, or in ``workers`` processes."""
    if workers == 1:
        for seeds in batches:
            yield _rows_of(spec, seeds, optimizer)
        return
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # JAX does not survive fork
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        futures = [pool.submit(_rows_of, spec, seeds, optimizer) for seeds in batches]
        for future in futures:
            yield future.result()


def _map_ray(spec: WorldSpec, batches: list[list[int]], optimizer: str, address: str | None):
    """The rows of each batch, in order, computed by Ray tasks (alignlens must be installed
    where the cluster's workers run)."""
    try:
        import ray
    except ImportError:
        raise AlignlensError(
            "the Ray executor needs ray",
            field="--executor",
            fix='pip install "alignlens[ray]", or use --executor local',
        ) from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        except ConnectionError as e:
            raise AlignlensError(
                f"cannot reach a Ray cluster at {address!r} ({e})",
                field="--address",
                fix="give the address of a running cluster (ray status prints it), or none",
            ) from None
    task = ray.remote(_rows_of)
    pending = [task.remote(spec, seeds, optimizer) for seeds in batches]
    for ref in pending:
        yield ray.get(ref)
