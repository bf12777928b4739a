"""`alignlens sweep run | export | report`: random worlds by the thousand."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from alignlens.atomic import check_writable
from alignlens.cli.console import (
    AsJson,
    Quiet,
    console,
    print_json,
    progress_of_count,
    reports_errors,
)
from alignlens.cli.options import SEED_MAX, choice, config_options
from alignlens.report.summary import sweep_tables, violation_lines
from alignlens.sweep.claims import summary, violating_worlds
from alignlens.sweep.export import Format
from alignlens.sweep.export import export as write_table
from alignlens.sweep.generator import WorldSpec
from alignlens.sweep.runner import Executor, SweepOptimizer, run_sweep
from alignlens.sweep.store import open_store

app = typer.Typer(
    help="Random worlds by the thousand: the claims checked, verdicts counted, a resumable store.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # help text is plain: a docstring's single line breaks are spaces
)

Store = Annotated[Path, typer.Option(help="The SQLite results store.")]
OptimizerChoice = choice(SweepOptimizer, "The optimiser.")
ExecutorChoice = choice(Executor, "Where batches run.")
FormatChoice = choice(Format, "The table's format.")


@app.command("run")
@reports_errors
@config_options("world_spec", WorldSpec)
def run(
    store: Store,
    worlds: Annotated[int, typer.Option(help="How many random worlds.")] = 1000,
    seed: Annotated[int, typer.Option(help="World i has seed SEED + i.", min=0, max=SEED_MAX)] = 0,
    optimizer: OptimizerChoice = "exhaustive",
    workers: Annotated[int, typer.Option(help="Local worker processes (1: this process).")] = 1,
    executor: ExecutorChoice = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: a new local instance).")
    ] = None,
    json_output: AsJson = False,
    quiet: Quiet = False,
    world_spec: dict[str, Any] | None = None,
) -> None:
    """Diagnose random worlds into the store (resuming an interrupted sweep), then summarise.
    The options from --states to --deploy-share describe the random worlds."""
    spec = WorldSpec(**(world_spec or {}))
    with progress_of_count("sweep", "worlds", quiet=json_output or quiet) as advance:
        document = run_sweep(
            spec,
            worlds,
            seed,
            str(store),
            optimizer=optimizer,
            workers=workers,
            executor=executor,
            address=address,
            on_batch=advance,
        )
    if json_output:
        print_json(document)
    else:
        console.print(sweep_tables(document, optimizer))


@app.command("export")
@reports_errors
def export(
    store: Store,
    out: Annotated[Path, typer.Option(help="The file to write.")],
    format: FormatChoice = "csv",
) -> None:
    """Write every row of the store as one flat table."""
    check_writable(out, "--out")
    with open_store(store) as results:
        n = write_table(results.rows(), format, out)
    console.print(f"{n} rows written to {out}")


@app.command("report")
@reports_errors
def report(store: Store, json_output: AsJson = False) -> None:
    """Claims 1–3 (with any violating world), claim 4, verdicts per lens, disagreements:
    for each optimiser whose rows the store holds, on its own. Reads the store, changes
    nothing."""
    with open_store(store) as results:
        by_optimizer = {name: results.rows(name) for name in results.optimizers()}
    documents = {}
    for name, rows in by_optimizer.items():
        documents[name] = {**summary(rows), "violating_worlds": violating_worlds(rows)}
    if json_output:
        print_json({"store": str(store), "optimizers": documents})
        return
    if not documents:
        console.print(f"the store {store} holds no worlds yet")
    for name, document in documents.items():
        console.print(sweep_tables(document, name))
        console.print(violation_lines(document, name))
