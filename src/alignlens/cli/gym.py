"""`alignlens diagnose-gym`: an agent trained elsewhere, on Gymnasium environments."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from alignlens.cli.console import AsJson, console, print_json, reports_errors
from alignlens.cli.options import SEED_MAX, Why, config_options
from alignlens.cli.worlds import print_verdicts
from alignlens.diagnosis import diagnose as diagnose_policy
from alignlens.errors import AlignlensError, PolicyError
from alignlens.policies.external import load_function, load_sb3, sb3_policy
from alignlens.report.document import document_of
from alignlens.report.terminal import certificate_table
from alignlens.tolerances import Tolerances
from alignlens.world.gym_certificate import certify
from alignlens.world.gym_horizon import parse_horizon
from alignlens.world.gym_specs import import_module, make_env
from alignlens.world.gymnasium import world_from_gymnasium
from alignlens.world.minigrid import is_minigrid, minigrid_world


@reports_errors
@config_options(
    "tolerances",
    Tolerances,
    only=("epsilon", "tau", "kappa", "catastrophe", "deploy_share"),
    help={"deploy_share": "λ: share of the lifetime deployed."},
)
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
    modules: Annotated[
        list[str] | None,
        typer.Option(
            "--import",
            help="Import this module first (e.g. one that registers environments); repeatable.",
        ),
    ] = None,
    tolerances: dict[str, Any] | None = None,
) -> None:
    """Diagnose an agent trained elsewhere on registered Gymnasium environments: the exact
    world of the training and deployment environments, the agent's policy on it, and the
    verdict of every lens. MiniGrid environments are read as MiniGrid worlds (the state is
    the agent's position and direction). The exact returns are checked against rollouts of
    the environments (--check)."""
    if check < 0 or check == 1:
        raise AlignlensError(
            f"--check {check} cannot estimate a standard error",
            field="--check",
            fix="give 0 (no check) or at least 2 rollouts per environment",
        )
    tol = Tolerances(**(tolerances or {}))
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
        "deploy_share": tol.deploy_share,
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
    result = diagnose_policy(gym_world.world, table, tolerances=tol)
    if json_output:
        document = document_of(result)
        document["world_notes"] = list(gym_world.notes)
        document["certificate"] = certificate.document() if certificate else None
        print_json(document)
        return
    print_verdicts(result, why)
    if certificate is not None:
        console.print(certificate_table(certificate))
    else:
        console.print(Text("not checked against rollouts (--check 0)", style="yellow"))
    for note in gym_world.notes:
        console.print(Text(f"note: {note}", style="yellow"))
