"""The `alignlens` command line (Typer + Rich).

Every command that reports takes ``--json`` and then prints one JSON document on stdout.
Bad input prints one line naming the file, the field and the fix, and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from alignlens.console import AsJson, console, errors, print_json, reports_errors
from alignlens.sweep.commands import sweep_app
from alignlens.tolerances import Tolerances

app = typer.Typer(
    name="alignlens",
    help="Exact numbers and a verdict under every definition of inner and outer alignment.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(sweep_app, name="sweep")


def _load(
    path: Path, epsilon: float, tau: float, kappa: float, deploy_share: float | None
) -> tuple[Any, Tolerances]:
    """The world file and the tolerances (λ defaults to the world's own deploy_share)."""
    from alignlens.world import load_world

    world = load_world(path)
    share = world.deploy_share if deploy_share is None else deploy_share
    return world, Tolerances(epsilon, tau, kappa, share)


Epsilon = Annotated[float, typer.Option(help="ε: optimality tolerance on normalised regret.")]
Tau = Annotated[float, typer.Option(help="τ: alignment tolerance on deployment regret under U.")]
Kappa = Annotated[float, typer.Option(help="κ: competence threshold for goals.")]
Share = Annotated[
    float | None,
    typer.Option(help="λ: fraction of the lifetime spent in deployment (default: the world's)."),
]


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

    w, tolerances = _load(world, epsilon, tau, kappa, deploy_share)
    analysis = analyze_world(w, tolerances)
    if json_output:
        print_json(world_document(analysis))
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

    w, tolerances = _load(world, epsilon, tau, kappa, deploy_share)
    result = run_diagnosis(w, policy, tolerances=tolerances)
    if json_output:
        print_json(result.document())
    else:
        console.print(verdict_table(result.analysis, dict(result.verdicts)))


@app.command()
@reports_errors
def scenarios() -> None:
    """List the scenarios: the essay's cases, each with a one-line card."""
    from alignlens.scenarios import scenarios as catalogue

    entries = catalogue().values()
    table = Table(title="scenarios (alignlens run ID)")
    table.add_column("id", no_wrap=True, min_width=max(len(s.id) for s in entries))
    table.add_column("case")
    table.add_column("optimisers")
    table.add_column("expected (W, H, N, S, 2D)", overflow="fold")
    for s in entries:
        table.add_row(s.id, s.title, ", ".join(s.optimizers), ", ".join(s.expected.values()))
    console.print(table)


@app.command()
@reports_errors
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario id (see `alignlens scenarios`).")],
    optimizer: Annotated[
        str | None, typer.Option(help="Optimiser (default: the scenario's own).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    k: Annotated[
        float | None, typer.Option("--k", help="greedy-genes: transmission of D by +D.")
    ] = None,
    s: Annotated[
        float | None, typer.Option("--s", help="greedy-genes: fitness cost of DD.")
    ] = None,
    h: Annotated[
        float | None, typer.Option("--h", help="greedy-genes: dominance of the cost.")
    ] = None,
    json_output: AsJson = False,
) -> None:
    """Run a scenario: train its policy and show the verdict of every lens."""
    from alignlens.report import verdict_table
    from alignlens.scenarios import run_scenario

    given = {name: v for name, v in (("k", k), ("s", s), ("h", h)) if v is not None}
    result = run_scenario(scenario, optimizer, seed, given)
    if json_output:
        document = result.diagnosis.document()
        document.update(
            scenario=scenario,
            optimizer=result.optimizer,
            seed=seed,
            parameters=dict(result.parameters),
            expected=dict(result.scenario.expected),
        )
        print_json(document)
        return
    console.print(verdict_table(result.diagnosis.analysis, dict(result.diagnosis.verdicts)))
    if not result.matches():
        console.print("[yellow]differs from the expected row of DESIGN §4[/]")


@app.command()
@reports_errors
def tour(json_output: AsJson = False) -> None:
    """Run every scenario: the verdicts side by side, then under the exhaustive optimiser.

    The first table is scenario × lens with each scenario's own optimiser; the second runs
    the same worlds with perfect search, where failures that needed imperfect optimisation
    disappear."""
    from rich.progress import Progress

    from alignlens.scenarios import run_scenario
    from alignlens.scenarios import scenarios as catalogue

    entries = list(catalogue().values())
    runs, perfect = [], []
    with Progress(console=errors, transient=True, disable=json_output) as progress:
        task = progress.add_task("running scenarios", total=2 * len(entries))
        for s in entries:
            runs.append(run_scenario(s.id))
            progress.advance(task)
            if "exhaustive" in s.optimizers:  # the essay's claim: perfect search, same world
                exhaustive = runs[-1] if s.default_optimizer == "exhaustive" else None
                perfect.append(exhaustive or run_scenario(s.id, "exhaustive"))
            progress.advance(task)
    if json_output:
        print_json(
            {
                "scenarios": [_tour_row(r) for r in runs],
                "exhaustive": [_tour_row(r) for r in perfect],
            }
        )
        return
    console.print(_tour_table("the essay's cases: the verdict of every lens", runs))
    if perfect:
        title = "the same worlds under the exhaustive (perfect) optimiser"
        console.print(_tour_table(title, perfect, mark=False))
    console.print("(!) marks a verdict that differs from the expected row of DESIGN §4.")


def _tour_row(r: Any) -> dict[str, Any]:
    return {
        "scenario": r.scenario.id,
        "optimizer": r.optimizer,
        "seed": r.seed,
        "verdicts": {k: str(v.category) for k, v in r.diagnosis.verdicts.items()},
        "expected": dict(r.scenario.expected),
    }


def _tour_table(title: str, runs: list[Any], *, mark: bool = True) -> Table:
    from alignlens.lenses import LENSES

    table = Table(title=title)
    table.add_column("scenario")
    table.add_column("optimiser")
    for lens in LENSES:
        table.add_column(lens)
    for r in runs:
        cells = []
        for lens, verdict in r.diagnosis.verdicts.items():
            differs = mark and str(verdict.category) != r.scenario.expected[lens]
            cells.append(str(verdict.category).replace("_", " ") + (" (!)" if differs else ""))
        table.add_row(r.scenario.id, r.optimizer, *cells)
    return table


def main() -> None:
    app()


if __name__ == "__main__":
    main()
