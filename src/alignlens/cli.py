"""The `alignlens` command line (Typer + Rich).

Every command that reports takes ``--json`` and then prints one JSON document on stdout.
Bad input prints one line naming the file, the field and the fix, and exits with status 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from alignlens.errors import AlignlensError
from alignlens.tolerances import Tolerances

app = typer.Typer(
    name="alignlens",
    help="Exact numbers and a verdict under every definition of inner and outer alignment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn an `AlignlensError` into one message on stderr and exit status 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AlignlensError as error:
            errors.print(
                f"[bold red]error:[/] {error}", markup=True, highlight=False, soft_wrap=True
            )
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


Epsilon = Annotated[float, typer.Option(help="ε: optimality tolerance on normalised regret.")]
Tau = Annotated[float, typer.Option(help="τ: alignment tolerance on deployment regret under U.")]
Kappa = Annotated[float, typer.Option(help="κ: competence threshold for goals.")]
Share = Annotated[
    float | None,
    typer.Option(help="λ: fraction of the lifetime spent in deployment (default: the world's)."),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@app.command()
@reports_errors
def analyze(
    world: Annotated[Path, typer.Argument(help="World file (.toml or .json).")],
    json_output: AsJson = False,
    epsilon: Epsilon = 1e-6,
    tau: Tau = 0.1,
    kappa: Kappa = 0.9,
    deploy_share: Share = None,
) -> None:
    """What a world's objectives imply before any policy is learned: class optima, worst and
    random returns, and the regret ranges over Opt(train, R), Opt(deploy, R) and Opt(λ, R)."""
    from alignlens.report import world_document, world_tables
    from alignlens.solve import analyze_world
    from alignlens.world import load_world

    w = load_world(world)
    share = w.deploy_share if deploy_share is None else deploy_share
    analysis = analyze_world(w, Tolerances(epsilon, tau, kappa, share))
    if json_output:
        _print_json(world_document(analysis))
    else:
        console.print(world_tables(analysis))


@app.command()
@reports_errors
def diagnose(
    world: Annotated[Path, typer.Argument(help="World file (.toml or .json).")],
    policy: Annotated[
        Path, typer.Option("--policy", help='Policy file: {"policy": {STATE: ACTION, ...}}.')
    ],
    json_output: AsJson = False,
    epsilon: Epsilon = 1e-6,
    tau: Tau = 0.1,
    kappa: Kappa = 0.9,
    deploy_share: Share = None,
) -> None:
    """Diagnose a learned policy: its exact returns and regrets, and a verdict under every
    definition of inner and outer alignment, with the conditions behind each."""
    from alignlens.diagnosis import diagnose as run_diagnosis
    from alignlens.report import verdict_table
    from alignlens.world import load_world

    w = load_world(world)
    share = w.deploy_share if deploy_share is None else deploy_share
    result = run_diagnosis(w, policy, tolerances=Tolerances(epsilon, tau, kappa, share))
    if json_output:
        _print_json(result.document())
    else:
        console.print(verdict_table(result.analysis, dict(result.verdicts)))


@app.command()
@reports_errors
def tour(json_output: AsJson = False) -> None:
    """Analyse every shipped example world and show the results side by side.

    The scenario catalogue of the essay's cases is not built yet; until it is, the tour
    analyses the example worlds in examples/."""
    from alignlens.report import world_document
    from alignlens.solve import analyze_world
    from alignlens.world import load_world
    from alignlens.world.examples import example_paths

    paths = example_paths()
    analyses = []
    with console.status("analysing example worlds", spinner="dots") if not json_output else _null():
        for path in paths:
            analyses.append((path, analyze_world(load_world(path))))
    if json_output:
        _print_json({"worlds": [world_document(a) for _, a in analyses]})
        return
    table = Table(title="alignlens tour: the example worlds (the scenario catalogue comes later)")
    table.add_column("world")
    table.add_column("worst deploy regret under U, Opt(train, R)", justify="right")
    table.add_column("same, Opt(deploy, R)", justify="right")
    table.add_column("outer-aligned λ (infinite data)", justify="center")
    for _, a in analyses:
        table.add_row(
            a.world,
            f"{a.optimal_sets['train_base']['deploy_intended_regret'].max:.3g}",
            f"{a.optimal_sets['deploy_base']['deploy_intended_regret'].max:.3g}",
            a.outer_aligned_shares.notation(),
        )
    console.print(table)
    console.print("Run [bold]alignlens analyze FILE[/] for any of them in full.")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
