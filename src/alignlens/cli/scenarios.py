"""`alignlens run | tour | report`: the essay's cases, trained and judged, and reports."""

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
    progress_of_runs,
    progress_of_stages,
    reports_errors,
)
from alignlens.cli.options import ScenarioSeed, Seed, Why
from alignlens.cli.worlds import print_verdicts
from alignlens.diagnosis import diagnose
from alignlens.errors import AlignlensError
from alignlens.report import pages
from alignlens.report.document import document_of
from alignlens.report.terminal import level_pictures, optimal_set_lines, tour_table
from alignlens.scenarios.catalogue import run_scenario
from alignlens.scenarios.scenario import ScenarioRun
from alignlens.scenarios.tour import quick, run_tour, tour_jobs
from alignlens.sweep.claims import summary
from alignlens.sweep.store import open_store

Settings = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="A parameter of the scenario (e.g. greedy-genes: --set k=0.7); repeatable. "
        "`alignlens scenarios` lists each scenario's parameters.",
    ),
]
Optimizer = Annotated[str | None, typer.Option(help="The optimiser (default: the scenario's own).")]


def parsed(settings: list[str] | None) -> dict[str, float]:
    """KEY=VALUE settings as numbers by key."""
    values: dict[str, float] = {}
    for setting in settings or ():
        key, sign, text = setting.partition("=")
        try:
            if not (sign and key.strip()):
                raise ValueError
            values[key.strip()] = float(text)
        except ValueError:
            raise AlignlensError(
                f"{setting!r} is not KEY=VALUE with a number",
                field="parameters",
                fix="give each parameter as KEY=VALUE, e.g. --set k=0.7",
            ) from None
    return values


@reports_errors
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario id (see `alignlens scenarios`).")],
    optimizer: Optimizer = None,
    seed: Seed = 0,
    parameters: Settings = None,
    json_output: AsJson = False,
    why: Why = False,
    quiet: Quiet = False,
) -> None:
    """Run a scenario: train its policy and show the verdict of every lens."""
    given = parsed(parameters)
    with progress_of_stages(scenario, quiet=json_output or quiet or quick(scenario)):
        try:
            result = run_scenario(scenario, optimizer, seed, given)
        except AlignlensError as error:  # a parameter's field is the --set that gave it
            raise error.renamed({key: f"--set {key}" for key in given}) from None
    if json_output:
        document = document_of(result.diagnosis)
        document.update(
            scenario=scenario,
            optimizer=result.optimizer,
            seed=seed,
            parameters=dict(result.parameters),
            expected=dict(result.scenario.expected),
        )
        if result.scenario.expected_by_share:
            document["expected_by_share"] = dict(result.scenario.expected_by_share)
        print_json(document)
        return
    print_verdicts(result.diagnosis, why)
    evidence = result.diagnosis.evidence
    if evidence is not None and evidence.world.grid is not None:
        console.print(level_pictures(evidence.world, evidence.policy))
    if not result.matches():
        console.print(
            "differs from the scenario's expected row (alignlens scenarios)", style="yellow"
        )


@reports_errors
def tour(
    json_output: AsJson = False,
    quiet: Quiet = False,
    out: Annotated[Path, typer.Option(help="Where to write the HTML report.")] = Path("tour.html"),
) -> None:
    """Run every scenario: the verdicts side by side, then under the exhaustive optimiser.

    The first table is scenario × lens with each scenario's own optimiser; the second runs
    the same worlds with perfect search, where failures that needed imperfect optimisation
    disappear. The HTML report (figures included) goes to --out."""
    check_writable(out, "--out")
    runs, perfect, drawn = run_tour_with_progress(quiet=json_output or quiet)
    if not json_output:  # the verdicts first: the report takes a few seconds more
        console.print(tour_table("the essay's cases: the verdict of every lens", runs))
        if perfect:
            title = "the same worlds under the exhaustive (perfect) optimiser"
            console.print(tour_table(title, perfect, mark=False, legend=False))
        console.print(optimal_set_lines(perfect))
    with progress_of_stages("report", quiet=json_output or quiet):
        path = pages.tour_report(runs, perfect, drawn).save(out)
    if json_output:
        print_json(
            {
                "scenarios": [tour_row(r) for r in runs],
                "exhaustive": [tour_row(r) for r in perfect],
                "report": str(path),
            }
        )
        return
    console.print(f"report written to {path}")


@reports_errors
def report(
    out: Annotated[Path, typer.Option(help="The HTML file to write.")] = Path("report.html"),
    scenario: Annotated[
        str | None, typer.Option(help="Run this scenario (see `alignlens scenarios`).")
    ] = None,
    tour: Annotated[bool, typer.Option("--tour", help="Run every scenario.")] = False,
    world: Annotated[Path | None, typer.Option(help="A world file (with --policy).")] = None,
    policy: Annotated[Path | None, typer.Option(help="A policy file (with --world).")] = None,
    store: Annotated[Path | None, typer.Option(help="A sweep store (SQLite).")] = None,
    optimizer: Optimizer = None,
    seed: ScenarioSeed = 0,
    quiet: Quiet = False,
) -> None:
    """Write one self-contained HTML report (figures inlined): of a scenario run, of the tour,
    of a policy diagnosed in a world, or of a sweep store."""
    given = [
        name
        for name, on in (
            ("--scenario", scenario is not None),
            ("--tour", tour),
            ("--world", world is not None or policy is not None),
            ("--store", store is not None),
        )
        if on
    ]
    if len(given) != 1:
        raise AlignlensError(
            f"{'nothing' if not given else ' and '.join(given)} given to report on",
            field="report",
            fix="give exactly one of --scenario ID, --tour, --world WORLD --policy FILE, "
            "--store FILE",
        )
    check_writable(out, "--out")
    if (world is None) != (policy is None):
        missing = "--policy" if policy is None else "--world"
        raise AlignlensError(
            f"{missing} is missing", field=missing, fix="give --world and --policy together"
        )
    if tour:
        runs, perfect, drawn = run_tour_with_progress(quiet=quiet)
    with progress_of_stages("report", quiet=quiet):
        if scenario is not None:
            page = pages.scenario_report(run_scenario(scenario, optimizer, seed))
        elif tour:
            page = pages.tour_report(runs, perfect, drawn)
        elif store is not None:
            with open_store(store) as results:
                by_optimizer = {name: results.rows(name) for name in results.optimizers()}
            page = pages.store_report(
                {name: (rows, summary(rows)) for name, rows in by_optimizer.items()}
            )
        else:  # --world and --policy, both given (checked above)
            page = pages.diagnosis_report(diagnose(world, policy))  # type: ignore[arg-type]
        path = page.save(out)
    console.print(f"report written to {path}")


def run_tour_with_progress(
    *, quiet: bool
) -> tuple[list[ScenarioRun], list[ScenarioRun], dict[str, Any]]:
    """Every scenario with its own optimiser, and those that can, under exhaustive search
    (in worker processes, with progress), and each scenario's report section, drawn as its
    run arrives while the others still run."""
    drawn: dict[str, Any] = {}
    with progress_of_runs("tour", len(tour_jobs()), quiet=quiet) as tell:
        runs, perfect = run_tour(
            listener=tell, arrived=lambda r: drawn.update({r.scenario.id: pages.tour_section(r)})
        )
    return runs, perfect, drawn


def tour_row(r: ScenarioRun) -> dict[str, Any]:
    """A scenario run's row of the tour's JSON document."""
    row: dict[str, Any] = {
        "scenario": r.scenario.id,
        "optimizer": r.optimizer,
        "seed": r.seed,
        "verdicts": {k: str(v.category) for k, v in r.diagnosis.verdicts.items()},
        "expected": dict(r.scenario.expected),
    }
    over = r.diagnosis.over_optimal
    if over is not None:
        row["over_optimal_set"] = {lens: over.notation(lens) for lens in over.counts}
    return row
