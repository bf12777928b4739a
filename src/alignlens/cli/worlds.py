"""`alignlens analyze | diagnose | sensitivity`: a world file, and a policy in it."""

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
    progress_of_stages,
    reports_errors,
)
from alignlens.cli.options import PolicyClassName, ScenarioSeed, Why, WorldFile, config_options
from alignlens.diagnosis import Diagnosis
from alignlens.diagnosis import diagnose as diagnose_policy
from alignlens.errors import AlignlensError, about_file
from alignlens.policies.enumerated import class_named
from alignlens.report.document import document_of, sensitivity_document, world_document
from alignlens.report.pages import sensitivity_report
from alignlens.report.terminal import (
    disagreement_lines,
    sensitivity_tables,
    verdict_table,
    world_tables,
)
from alignlens.scenarios.catalogue import run_scenario
from alignlens.scenarios.tour import quick
from alignlens.sensitivity import sensitivity as strips_of
from alignlens.solve.exact.analyze import analyze_world
from alignlens.solve.exact.enumerated import analyze_enumerated
from alignlens.tolerances import Tolerances
from alignlens.world.files import load_world
from alignlens.world.model import World

THRESHOLDS = ("epsilon", "tau", "kappa", "catastrophe", "deploy_share")
SHARE_HELP = {
    "deploy_share": "λ: fraction of the lifetime spent in deployment (default: the world's)."
}
WORLD_SHARE = {"deploy_share": None}


def load(path: Path, given: dict[str, Any]) -> tuple[World, Tolerances]:
    """The world file and the tolerances given (λ defaults to the world's own)."""
    world = load_world(path)
    share = given.get("deploy_share")
    values = {**given, "deploy_share": world.deploy_share if share is None else share}
    return world, Tolerances(**values)


def print_verdicts(result: Diagnosis, why: bool) -> None:
    """A diagnosis's verdict table, then why its lenses disagree (in full with --why)."""
    console.print(
        verdict_table(
            result.analysis, dict(result.verdicts), result.by_share(), result.over_optimal
        )
    )
    console.print(disagreement_lines(result.disagreements(), explained=why))


@reports_errors
@config_options(
    "tolerances",
    Tolerances,
    only=(*THRESHOLDS, "normaliser", "reward_scale"),
    defaults=WORLD_SHARE,
    help=SHARE_HELP,
)
def analyze(
    world: WorldFile,
    json_output: AsJson = False,
    policy_class: PolicyClassName = None,
    tolerances: dict[str, Any] | None = None,
) -> None:
    """What a world's objectives imply before any policy is learned: class optima, worst and
    random returns, and the regret ranges over Opt(train, R), Opt(deploy, R) and Opt(λ, R)."""
    w, tol = load(world, tolerances or {})
    cls = class_named(w, policy_class or w.policy_class)
    with about_file(str(world)):
        analysis = analyze_world(w, tol) if cls is None else analyze_enumerated(w, cls, tol)[0]
    if json_output:
        print_json(world_document(analysis))
    else:
        console.print(world_tables(analysis))


@reports_errors
@config_options(
    "tolerances",
    Tolerances,
    only=(*THRESHOLDS, "mesa_reading", "normaliser", "reward_scale"),
    defaults=WORLD_SHARE,
    help=SHARE_HELP,
)
def diagnose(
    world: WorldFile,
    policy: Annotated[
        Path, typer.Option("--policy", help='Policy file: {"policy": {STATE: ACTION, ...}}.')
    ],
    json_output: AsJson = False,
    why: Why = False,
    policy_class: PolicyClassName = None,
    tolerances: dict[str, Any] | None = None,
) -> None:
    """Diagnose a learned policy: its exact returns and regrets, and a verdict under every
    definition of inner and outer alignment, with the conditions behind each."""
    w, tol = load(world, tolerances or {})
    with about_file(str(world)):
        result = diagnose_policy(w, policy, tolerances=tol, policy_class=policy_class)
    if json_output:
        print_json(document_of(result))
    else:
        print_verdicts(result, why)


@reports_errors
def sensitivity(
    world: Annotated[
        Path | None, typer.Argument(help="World file (.toml or .json), with --policy.")
    ] = None,
    policy: Annotated[Path | None, typer.Option(help="Policy file (with WORLD).")] = None,
    scenario: Annotated[
        str | None, typer.Option(help="Run this scenario instead (see `alignlens scenarios`).")
    ] = None,
    optimizer: Annotated[
        str | None, typer.Option(help="With --scenario: the optimiser (default: its own).")
    ] = None,
    seed: ScenarioSeed = 0,
    out: Annotated[
        Path | None, typer.Option(help="Also write an HTML report with a strip per lens.")
    ] = None,
    json_output: AsJson = False,
    quiet: Quiet = False,
) -> None:
    """Where each verdict flips: every lens's verdict as a function of λ, ε, τ, κ and χ.

    Exact for τ, κ and χ (the verdict changes only where a threshold meets a number of the
    analysis) and for λ where the regret over Opt(λ, R) is known for every λ; ε (and
    otherwise λ) by re-analysing the world on a grid, changes located to about 1%."""
    if (scenario is None) == (world is None) or (world is None) != (policy is None):
        raise AlignlensError(
            "give a world with its policy, or a scenario",
            field="sensitivity",
            fix="run `alignlens sensitivity WORLD --policy FILE` or "
            "`alignlens sensitivity --scenario ID`",
        )
    if out is not None:
        check_writable(out, "--out")
    if scenario is not None:
        with progress_of_stages(scenario, quiet=json_output or quiet or quick(scenario)):
            diagnosis = run_scenario(scenario, optimizer, seed).diagnosis
        strips = strips_of(diagnosis, diagnosis.redo)
    else:  # a world with its policy (checked above)
        w, tolerances = load(world, {})  # type: ignore[arg-type]
        with about_file(str(world)):
            diagnosis = diagnose_policy(w, policy, tolerances=tolerances)  # type: ignore[arg-type]
            strips = strips_of(diagnosis, diagnosis.redo)
    path = sensitivity_report(diagnosis, strips).save(out) if out is not None else None
    if json_output:
        a = diagnosis.analysis
        print_json(
            {
                "world": a.objectives.world,
                "policy": a.policy,
                "parameters": sensitivity_document(strips),
            }
        )
    else:
        console.print(sensitivity_tables(strips))
        if path is not None:
            console.print(f"report written to {path}")
