"""`alignlens sweep run | export | report`: the sweep commands of the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from alignlens.console import (
    AsJson,
    Quiet,
    console,
    print_json,
    progress_of_count,
    reports_errors,
)

sweep_app = typer.Typer(
    help="Random worlds by the thousand: the claims checked, verdicts counted, a resumable store.",
    no_args_is_help=True,
    rich_markup_mode=None,  # help text is plain: a docstring's single line breaks are spaces
)

Store = Annotated[Path, typer.Option(help="The SQLite results store.")]


@sweep_app.command("run")
@reports_errors
def run(
    store: Store,
    worlds: Annotated[int, typer.Option(help="How many random worlds.")] = 1000,
    seed: Annotated[int, typer.Option(help="World i has seed SEED + i.", min=0, max=2**32 - 1)] = 0,
    optimizer: Annotated[str, typer.Option(help="exhaustive or policy-gradient.")] = "exhaustive",
    workers: Annotated[int, typer.Option(help="Local worker processes (1: this process).")] = 1,
    executor: Annotated[str, typer.Option(help="local or ray.")] = "local",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: a new local instance).")
    ] = None,
    states: Annotated[int, typer.Option(help="States per world.")] = 16,
    actions: Annotated[int, typer.Option(help="Actions per state.")] = 4,
    successors: Annotated[int, typer.Option(help="Successor draws per state and action.")] = 2,
    rewards: Annotated[str, typer.Option(help="integers or normal.")] = "integers",
    shift: Annotated[
        str, typer.Option(help="start, deploy-states, dynamics or aliased (small worlds only).")
    ] = "start",
    json_output: AsJson = False,
    quiet: Quiet = False,
) -> None:
    """Diagnose random worlds into the store (resuming an interrupted sweep), then summarise."""
    from alignlens.sweep.generator import WorldSpec
    from alignlens.sweep.runner import run_sweep

    spec = WorldSpec(
        states=states, actions=actions, successors=successors, rewards=rewards, shift=shift
    )
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
        return
    _print_summary(document, optimizer)


@sweep_app.command("export")
@reports_errors
def export(
    store: Store,
    out: Annotated[Path, typer.Option(help="The file to write.")],
    format: Annotated[str, typer.Option(help="csv or parquet.")] = "csv",
) -> None:
    """Write every row of the store as one flat table."""
    from alignlens.atomic import check_writable
    from alignlens.sweep.export import export as write
    from alignlens.sweep.store import open_store

    check_writable(out, "--out")
    with open_store(store) as results:
        n = write(results.rows(), format, out)
    console.print(f"{n} rows written to {out}")


@sweep_app.command("report")
@reports_errors
def report(store: Store, json_output: AsJson = False) -> None:
    """Claims 1–3 (with any violating world), claim 4, verdicts per lens, disagreements:
    for each optimiser whose rows the store holds, on its own. Reads the store, changes
    nothing."""
    from alignlens.sweep.claims import summary
    from alignlens.sweep.store import open_store

    with open_store(store) as results:
        by_optimizer = {name: results.rows(name) for name in results.optimizers()}
    documents = {}
    for name, rows in by_optimizer.items():
        document = summary(rows)
        document["violating_worlds"] = [
            {"world_seed": r["world_seed"], "spec": r["spec"], "claim": c}
            for r in rows
            for c in ("1", "2", "3")
            if r[f"claim{c}_violated"]
        ]
        documents[name] = document
    if json_output:
        print_json({"store": str(store), "optimizers": documents})
        return
    if not documents:
        console.print(f"the store {store} holds no worlds yet")
    for name, document in documents.items():
        _print_summary(document, name)
        for v in document["violating_worlds"]:
            console.print(
                Text.assemble(
                    (f"claim {v['claim']} violated", "red"),
                    f" by world {v['world_seed']} ({name}): reproduce with "
                    f"random_world(WorldSpec(**{v['spec']}), {v['world_seed']})",
                )
            )


CLAIMS = {
    "1": "outer_W and full_opt ⇒ aligned",
    "2": "outer_W′, robust_W and full_opt ⇒ aligned",
    "3": "bad and outer_W ⇒ not full_opt",
    "4": "outer_H depends on λ (a count, not a law)",
}


def _fragile_table(document: dict[str, Any]) -> Table:
    from alignlens.sweep.claims import FRAGILE_TITLE, fragile_rows

    table = Table(title=FRAGILE_TITLE)
    for head in ("lens", "τ", "κ (1 − κ)", "χ"):
        table.add_column(head, justify="left" if head == "lens" else "right")
    for row in fragile_rows(document):
        table.add_row(*row)
    return table


def _print_summary(document: dict[str, Any], optimizer: str) -> None:
    from alignlens.report.terminal import category_legend

    claims = Table(title=f"claims over {document['worlds']} worlds ({optimizer})")
    claims.add_column("claim")
    claims.add_column("says")
    claims.add_column("checked", justify="right")
    claims.add_column("violations / λ-dependent", justify="right")
    for claim, counts in document["claims"].items():
        other = counts.get("violations", counts.get("lambda_dependent"))
        claims.add_row(claim, CLAIMS.get(claim, ""), str(counts["checked"]), str(other))
    console.print(claims)
    console.print("checked: worlds where the premise holds; violations: where the conclusion fails")
    verdicts = Table(title="verdicts per lens")
    verdicts.add_column("lens")
    verdicts.add_column("categories")
    for lens, counts in document["verdicts"].items():
        verdicts.add_row(lens, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    console.print(verdicts)
    disagreement = Table(title="where two lenses disagree (X's category / Y's category)")
    disagreement.add_column("lenses X/Y")
    disagreement.add_column("counts")
    for pair, counts in document["disagreement"].items():
        disagreement.add_row(pair, ", ".join(f"{k} {v}" for k, v in counts.items()) or "—")
    console.print(disagreement)
    console.print(_fragile_table(document))
    seen = {c for counts in document["verdicts"].values() for c in counts}
    console.print(category_legend(seen))
