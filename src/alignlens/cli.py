"""The `alignlens` command line (Typer + Rich).

Every command that reports takes ``--json`` and then prints one JSON document on stdout.
Bad input prints one line naming the file, the field and the fix, and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from alignlens.caches import use_persistent_caches
from alignlens.console import (
    AsJson,
    Quiet,
    console,
    print_json,
    progress_of_runs,
    progress_of_stages,
    reports_errors,
)
from alignlens.errors import AlignlensError, PolicyError, about_file
from alignlens.sweep.commands import sweep_app
from alignlens.tolerances import Tolerances

app = typer.Typer(
    name="alignlens",
    help="Exact numbers and a verdict under every definition of inner and outer alignment.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # help text is plain: a docstring's single line breaks are spaces
    pretty_exceptions_enable=False,
)
app.add_typer(sweep_app, name="sweep")


@app.callback()
@reports_errors
def _everywhere(
    max_memory: Annotated[
        str | None,
        typer.Option(
            "--max-memory",
            help="Most memory a world may take (e.g. 4G); default: half the memory "
            "available. Larger worlds are refused before anything is allocated.",
        ),
    ] = None,
) -> None:
    from alignlens.limits import parse_size, set_budget

    set_budget(None if max_memory is None else parse_size(max_memory))


def _load(path: Path, deploy_share: float | None, **tolerances: Any) -> tuple[Any, Tolerances]:
    """The world file and the tolerances (λ defaults to the world's own deploy_share)."""
    from alignlens.world import load_world

    world = load_world(path)
    share = world.deploy_share if deploy_share is None else deploy_share
    return world, Tolerances(deploy_share=share, **tolerances)


def _print_verdicts(result: Any, why: bool) -> None:
    """A diagnosis's verdict table, then why its lenses disagree (in full with --why)."""
    from alignlens.report.terminal import disagreement_lines, verdict_table

    console.print(
        verdict_table(
            result.analysis, dict(result.verdicts), result.by_share(), result.over_optimal
        )
    )
    console.print(disagreement_lines(result.disagreements(), explained=why))


SEED_MAX = 2**32 - 1  # seeds are 32-bit (JAX's keys and NumPy's generators take them)
Epsilon = Annotated[float, typer.Option(help="ε: optimality tolerance on normalised regret.")]
Tau = Annotated[float, typer.Option(help="τ: alignment tolerance on deployment regret under U.")]
Kappa = Annotated[float, typer.Option(help="κ: competence threshold for goals.")]
Why = Annotated[
    bool,
    typer.Option(
        "--why",
        help="Say, for every pair of lenses with different verdicts, what separates them here.",
    ),
]
Catastrophe = Annotated[
    float,
    typer.Option(help="χ: deployment regret under U above which a failure is catastrophic."),
]
Share = Annotated[
    float | None,
    typer.Option(help="λ: fraction of the lifetime spent in deployment (default: the world's)."),
]
PolicyClassName = Annotated[
    str | None,
    typer.Option(
        "--class",
        help="The policy class optima range over: tabular (every map from state to action) or "
        "observation (every deterministic map from observation to action); default: the "
        "world file's policy_class.",
    ),
]
Normaliser = Annotated[
    str,
    typer.Option(
        help="What a regret V* − J is divided by: range (V* − W over the class), random "
        "(V* − J of the uniform random policy) or absolute (--reward-scale)."
    ),
]
RewardScale = Annotated[
    float | None,
    typer.Option(help="With --normaliser absolute: the return that counts as regret 1."),
]
MesaReading = Annotated[
    str,
    typer.Option(
        help="How Ngo's lens recognises a mesa-optimiser: structural (a declared, checked "
        "objective) or behavioural (competent at a goal other than R in deployment)."
    ),
]


@app.command()
@reports_errors
def analyze(
    world: Annotated[Path, typer.Argument(help="World file (.toml or .json).")],
    json_output: AsJson = False,
    epsilon: Epsilon = 1e-6,
    tau: Tau = 0.1,
    kappa: Kappa = 0.9,
    catastrophe: Catastrophe = 0.5,
    deploy_share: Share = None,
    policy_class: PolicyClassName = None,
    normaliser: Normaliser = "range",
    reward_scale: RewardScale = None,
) -> None:
    """What a world's objectives imply before any policy is learned: class optima, worst and
    random returns, and the regret ranges over Opt(train, R), Opt(deploy, R) and Opt(λ, R)."""
    from alignlens.policies.enumerated import class_named
    from alignlens.report import world_document, world_tables
    from alignlens.solve import analyze_enumerated, analyze_world

    w, tolerances = _load(
        world,
        deploy_share,
        epsilon=epsilon,
        tau=tau,
        kappa=kappa,
        catastrophe=catastrophe,
        normaliser=normaliser,
        reward_scale=reward_scale,
    )
    cls = class_named(w, policy_class or w.policy_class)
    with about_file(str(world)):
        if cls is None:
            analysis = analyze_world(w, tolerances)
        else:
            analysis = analyze_enumerated(w, cls, tolerances)[0]
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
    why: Why = False,
    epsilon: Epsilon = 1e-6,
    tau: Tau = 0.1,
    kappa: Kappa = 0.9,
    catastrophe: Catastrophe = 0.5,
    deploy_share: Share = None,
    mesa_reading: MesaReading = "structural",
    policy_class: PolicyClassName = None,
    normaliser: Normaliser = "range",
    reward_scale: RewardScale = None,
) -> None:
    """Diagnose a learned policy: its exact returns and regrets, and a verdict under every
    definition of inner and outer alignment, with the conditions behind each."""
    from alignlens.diagnosis import diagnose as run_diagnosis

    w, tolerances = _load(
        world,
        deploy_share,
        epsilon=epsilon,
        tau=tau,
        kappa=kappa,
        catastrophe=catastrophe,
        mesa_reading=mesa_reading,
        normaliser=normaliser,
        reward_scale=reward_scale,
    )
    with about_file(str(world)):
        result = run_diagnosis(w, policy, tolerances=tolerances, policy_class=policy_class)
    if json_output:
        print_json(result.document())
    else:
        _print_verdicts(result, why)


@app.command("diagnose-gym")
@reports_errors
def diagnose_gym(
    train: Annotated[
        str, typer.Option(help="Training environment: ENV_ID[:key=value,...] or ENV_ID:{json}.")
    ],
    deploy: Annotated[str, typer.Option(help="Deployment environment, in the same form.")],
    policy: Annotated[
        str,
        typer.Option(
            help="The policy: sb3:PATH.zip (Stable-Baselines3), or MODULE:FUNCTION, a function "
            "from an observation to an action or action probabilities."
        ),
    ],
    intended_info: Annotated[
        str | None, typer.Option(help="Read U from this info key per step (search only).")
    ] = None,
    deterministic: Annotated[
        bool, typer.Option(help="Judge the model's deterministic prediction.")
    ] = False,
    trust_model: Annotated[
        bool,
        typer.Option(
            "--trust-model",
            help="Load the model with Stable-Baselines3's own loader, which runs code that "
            "the file may hold (only for files you trust).",
        ),
    ] = False,
    discount: Annotated[float, typer.Option(help="γ of the world.")] = 0.99,
    horizon: Annotated[
        str,
        typer.Option(
            help="Episode length: time-limit (where the environments cut episodes), a number "
            "of steps, or none (ignore time limits; needs a discount below 1)."
        ),
    ] = "time-limit",
    check: Annotated[
        int,
        typer.Option(
            help="Roll the policy this many times in each environment and compare the exact "
            "returns with the rollouts (0: no check)."
        ),
    ] = 1000,
    seed: Annotated[
        int, typer.Option(help="Random seed of the check's rollouts.", min=0, max=SEED_MAX)
    ] = 0,
    state_limit: Annotated[int, typer.Option(help="Most states a search may find.")] = 10_000,
    json_output: AsJson = False,
    why: Why = False,
    epsilon: Epsilon = 1e-6,
    tau: Tau = 0.1,
    kappa: Kappa = 0.9,
    catastrophe: Catastrophe = 0.5,
    deploy_share: Annotated[float, typer.Option(help="λ: share of the lifetime deployed.")] = 0.5,
    modules: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            help="Import this module first (e.g. one that registers environments); repeatable.",
        ),
    ] = None,
) -> None:
    """Diagnose an agent trained elsewhere on registered Gymnasium environments: the exact
    world of the training and deployment environments, the agent's policy on it, and the
    verdict of every lens. MiniGrid environments are read as MiniGrid worlds (the state is
    the agent's position and direction). The exact returns are checked against rollouts of
    the environments (--check)."""
    from alignlens.diagnosis import diagnose as run_diagnosis
    from alignlens.policies.external import load_function, load_sb3, sb3_policy
    from alignlens.report.terminal import certificate_table
    from alignlens.world.gym_certificate import certify
    from alignlens.world.gym_horizon import parse_horizon
    from alignlens.world.gym_specs import import_module, make_env
    from alignlens.world.gymnasium import world_from_gymnasium
    from alignlens.world.minigrid import is_minigrid, minigrid_world

    if check < 0 or check == 1:
        raise AlignlensError(
            f"--check {check} cannot estimate a standard error",
            field="--check",
            fix="give 0 (no check) or at least 2 rollouts per environment",
        )
    world_horizon = parse_horizon(horizon, "--horizon")
    for module in modules or ():
        import_module(module, "--import")
    envs = {"--train": make_env(train, "--train"), "--deploy": make_env(deploy, "--deploy")}
    scheme, _, path = policy.partition(":")
    if scheme == "sb3":
        if not path:
            raise AlignlensError(
                f"unknown policy {policy!r}",
                field="--policy",
                fix="give a Stable-Baselines3 model as sb3:PATH.zip",
            )
        first = envs["--train"]
        spaces = (first.observation_space, first.action_space)
        model = load_sb3(path, spaces=spaces, spaces_from="--train", trust=trust_model)
        for option, env in envs.items():
            for space in ("observation_space", "action_space"):
                if getattr(env, space) != getattr(model, space):
                    raise AlignlensError(
                        f"the model's {space} is {getattr(model, space)}, the environment's "
                        f"is {getattr(env, space)}",
                        file=path,
                        field=option,
                        fix="diagnose a model on environments with the spaces it was trained on",
                    )
        act = sb3_policy(model, deterministic=deterministic)
        name = f"{Path(path).name}{' (deterministic)' if deterministic else ''}"
    else:
        act, name = load_function(policy), policy
    shape = {
        "discount": discount,
        "horizon": world_horizon,
        "deploy_share": deploy_share,
        "state_limit": state_limit,
    }
    if all(is_minigrid(env) for env in envs.values()):
        if intended_info is not None:
            raise AlignlensError(
                "MiniGrid environments are read without info keys",
                field="--intended-info",
                fix="leave --intended-info out for MiniGrid environments",
            )
        gym_world = minigrid_world(envs["--train"], envs["--deploy"], **shape)
    else:
        gym_world = world_from_gymnasium(
            envs["--train"], envs["--deploy"], intended_info=intended_info, **shape
        )
    try:
        table = gym_world.policy(act, name=name)
    except PolicyError as error:  # name the option, not the inner call
        raise PolicyError(
            f"{error.problem} (at {error.field})", file=policy, field="--policy", fix=error.fix
        ) from None
    certificate = certify(gym_world, table, episodes=check, seed=seed) if check else None
    result = run_diagnosis(
        gym_world.world,
        table,
        tolerances=Tolerances(epsilon, tau, kappa, deploy_share, catastrophe=catastrophe),
    )
    if json_output:
        document = result.document()
        document["world_notes"] = list(gym_world.notes)
        document["certificate"] = certificate.document() if certificate else None
        print_json(document)
        return
    _print_verdicts(result, why)
    if certificate is not None:
        console.print(certificate_table(certificate))
    else:
        console.print(Text("not checked against rollouts (--check 0)", style="yellow"))
    for note in gym_world.notes:
        console.print(Text(f"note: {note}", style="yellow"))


@app.command()
@reports_errors
def scenarios() -> None:
    """List the scenarios: the essay's cases, each with a one-line card."""
    from alignlens.report.terminal import scenarios_table
    from alignlens.scenarios import scenarios as catalogue

    console.print(scenarios_table(list(catalogue().values())))


@app.command("lenses")
@reports_errors
def lenses_command(json_output: AsJson = False) -> None:
    """List the lenses: each definition of inner and outer alignment a verdict is given
    under, with the line it formalises (lenses other packages register included)."""
    from alignlens.lenses import lens_registry
    from alignlens.report.document import lens_document
    from alignlens.report.terminal import lenses_table

    if json_output:
        print_json([lens_document(entry) for entry in lens_registry()])
    else:
        console.print(lenses_table(lens_registry()))


@app.command()
@reports_errors
def examples(
    copy: Annotated[
        Path | None,
        typer.Option(
            metavar="FOLDER", help="Copy the example files (with policies/) into FOLDER/examples."
        ),
    ] = None,
) -> None:
    """List the example world files that ship with alignlens. A path examples/FILE that is
    not in the current folder is read from them, so the documented commands run anywhere."""
    from alignlens.world.examples import (
        copy_examples,
        example_paths,
        example_summary,
        examples_dir,
    )

    folder = examples_dir()
    if copy is not None:
        target, count = copy_examples(copy)
        console.print(f"copied {count} example files to {target}", highlight=False)
        return
    paths = example_paths()
    table = Table(title="example worlds (examples/FILE)")
    table.add_column("file", no_wrap=True, min_width=max(len(p.name) for p in paths))
    table.add_column("what it shows", overflow="fold")
    for p in paths:
        table.add_row(p.name, example_summary(p))
    console.print(table)
    policies = sorted(p.name for p in (folder / "policies").glob("*.json"))
    console.print(f"policies in examples/policies/: {', '.join(policies)}", highlight=False)
    console.print(f"shipped in {folder}; copy them here: alignlens examples --copy .")


@app.command()
@reports_errors
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario id (see `alignlens scenarios`).")],
    optimizer: Annotated[
        str | None, typer.Option(help="Optimiser (default: the scenario's own).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.", min=0, max=SEED_MAX)] = 0,
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
    why: Why = False,
    quiet: Quiet = False,
) -> None:
    """Run a scenario: train its policy and show the verdict of every lens."""
    from alignlens.scenarios import run_scenario

    given = {name: v for name, v in (("k", k), ("s", s), ("h", h)) if v is not None}
    with progress_of_stages(scenario, quiet=json_output or quiet or _quick(scenario)):
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
        if result.scenario.expected_by_share:
            document["expected_by_share"] = dict(result.scenario.expected_by_share)
        print_json(document)
        return
    _print_verdicts(result.diagnosis, why)
    evidence = result.diagnosis.evidence
    if evidence is not None and evidence.world.grid is not None:
        from alignlens.report.terminal import level_pictures

        console.print(level_pictures(evidence.world, evidence.policy))
    if not result.matches():
        console.print(
            "differs from the scenario's expected row (alignlens scenarios)", style="yellow"
        )


@app.command()
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
    from alignlens.atomic import check_writable
    from alignlens.report.pages import tour_report
    from alignlens.report.terminal import optimal_set_lines, tour_table

    check_writable(out, "--out")
    runs, perfect, drawn = _run_tour(quiet=json_output or quiet)
    if not json_output:  # the verdicts first: the report takes a few seconds more
        console.print(tour_table("the essay's cases: the verdict of every lens", runs))
        if perfect:
            title = "the same worlds under the exhaustive (perfect) optimiser"
            console.print(tour_table(title, perfect, mark=False, legend=False))
        console.print(optimal_set_lines(perfect))
    with progress_of_stages("report", quiet=json_output or quiet):
        path = tour_report(runs, perfect, drawn).save(out)
    if json_output:
        print_json(
            {
                "scenarios": [_tour_row(r) for r in runs],
                "exhaustive": [_tour_row(r) for r in perfect],
                "report": str(path),
            }
        )
        return
    console.print(f"report written to {path}")


@app.command()
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
    seed: Annotated[
        int, typer.Option(help="With --scenario: the random seed.", min=0, max=SEED_MAX)
    ] = 0,
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
    from alignlens.report.document import sensitivity_document
    from alignlens.report.terminal import sensitivity_tables
    from alignlens.sensitivity import sensitivity as strips_of

    if (scenario is None) == (world is None) or (world is None) != (policy is None):
        raise AlignlensError(
            "give a world with its policy, or a scenario",
            field="sensitivity",
            fix="run `alignlens sensitivity WORLD --policy FILE` or "
            "`alignlens sensitivity --scenario ID`",
        )
    if out is not None:
        from alignlens.atomic import check_writable

        check_writable(out, "--out")
    if scenario is not None:
        from alignlens.scenarios import run_scenario

        with progress_of_stages(scenario, quiet=json_output or quiet or _quick(scenario)):
            diagnosis = run_scenario(scenario, optimizer, seed).diagnosis
    else:
        from alignlens.diagnosis import diagnose as run_diagnosis

        w, tolerances = _load(world, None)  # type: ignore[arg-type]
        with about_file(str(world)):
            diagnosis = run_diagnosis(w, policy, tolerances=tolerances)  # type: ignore[arg-type]
    if world is not None:
        with about_file(str(world)):
            strips = strips_of(diagnosis, diagnosis.redo)
    else:
        strips = strips_of(diagnosis, diagnosis.redo)
    if out is not None:
        from alignlens.report.pages import sensitivity_report

        path = sensitivity_report(diagnosis, strips).save(out)
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
        if out is not None:
            console.print(f"report written to {path}")


@app.command()
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
    optimizer: Annotated[
        str | None, typer.Option(help="With --scenario: the optimiser (default: its own).")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="With --scenario: the random seed.", min=0, max=SEED_MAX)
    ] = 0,
    quiet: Quiet = False,
) -> None:
    """Write one self-contained HTML report (figures inlined): of a scenario run, of the tour,
    of a policy diagnosed in a world, or of a sweep store."""
    from alignlens.atomic import check_writable
    from alignlens.report import pages

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
        runs, perfect, drawn = _run_tour(quiet=quiet)
    with progress_of_stages("report", quiet=quiet):
        if scenario is not None:
            from alignlens.scenarios import run_scenario

            page = pages.scenario_report(run_scenario(scenario, optimizer, seed))
        elif tour:
            page = pages.tour_report(runs, perfect, drawn)
        elif store is not None:
            from alignlens.sweep.claims import summary
            from alignlens.sweep.store import open_store

            with open_store(store) as results:
                by_optimizer = {name: results.rows(name) for name in results.optimizers()}
            page = pages.store_report(
                {name: (rows, summary(rows)) for name, rows in by_optimizer.items()}
            )
        else:
            from alignlens.diagnosis import diagnose as run_diagnosis

            page = pages.diagnosis_report(run_diagnosis(world, policy))
        path = page.save(out)
    console.print(f"report written to {path}")


def _quick(scenario: str) -> bool:
    """Whether a scenario runs in well under 2 s (no progress needed): all but the neural."""
    from alignlens.scenarios import scenarios as catalogue
    from alignlens.scenarios.tour import NEURAL_OPTIMIZERS

    entry = catalogue().get(scenario)
    return entry is None or entry.default_optimizer not in NEURAL_OPTIMIZERS


def _run_tour(*, quiet: bool) -> tuple[list[Any], list[Any], dict[str, Any]]:
    """Every scenario with its own optimiser, and those that can, under exhaustive search
    (in worker processes, with progress), and each scenario's report section, drawn as its
    run arrives while the others still run."""
    from alignlens.report.pages import tour_section
    from alignlens.scenarios.tour import run_tour, tour_jobs

    drawn: dict[str, Any] = {}
    with progress_of_runs("tour", len(tour_jobs()), quiet=quiet) as tell:
        runs, perfect = run_tour(
            listener=tell, arrived=lambda r: drawn.update({r.scenario.id: tour_section(r)})
        )
    return runs, perfect, drawn


def _tour_row(r: Any) -> dict[str, Any]:
    row = {
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


def main() -> None:
    use_persistent_caches()
    app()


if __name__ == "__main__":
    main()
