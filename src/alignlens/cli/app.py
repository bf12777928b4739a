"""The `alignlens` application: the option that applies to every command, and each
command loaded from its module when it runs (so `alignlens run` does not import what
`alignlens sweep` or `alignlens diagnose-gym` needs), listed in the order `--help` shows.
"""

from __future__ import annotations

import functools
import importlib
from typing import Annotated, Any

import typer

from alignlens.cli.console import reports_errors
from alignlens.limits import parse_size, set_budget

COMMANDS = {  # command → the module of alignlens.cli that defines it (as a function)
    "analyze": "worlds",
    "diagnose": "worlds",
    "diagnose-gym": "gym",
    "scenarios": "catalogue",
    "lenses": "catalogue",
    "examples": "catalogue",
    "run": "scenarios",
    "tour": "scenarios",
    "sensitivity": "worlds",
    "report": "scenarios",
    "sweep": "sweep",  # a group of its own (`alignlens.cli.sweep.app`)
}
SETTINGS: dict[str, Any] = {
    "add_completion": False,
    "rich_markup_mode": None,  # help text is plain: a docstring's single line breaks are spaces
    "pretty_exceptions_enable": False,
}


Command = Any  # a command of the click that Typer carries (typer._click), not of `click`


@functools.cache
def load(name: str) -> Command:
    """The click command ``name``, built from its module on first use."""
    module = importlib.import_module(f"alignlens.cli.{COMMANDS[name]}")
    if name == "sweep":
        return typer.main.get_command(module.app)
    one = typer.Typer(**SETTINGS)
    one.command(name)(getattr(module, name.replace("-", "_")))
    return typer.main.get_command(one)


class Commands(typer.core.TyperGroup):
    """The commands of `COMMANDS`, each loaded when it is looked up."""

    def list_commands(self, ctx: Any) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: Any, cmd_name: str) -> Command | None:
        return load(cmd_name) if cmd_name in COMMANDS else None


app = typer.Typer(
    name="alignlens",
    help="Exact numbers and a verdict under every definition of inner and outer alignment.",
    no_args_is_help=True,
    cls=Commands,
    **SETTINGS,
)


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
    set_budget(None if max_memory is None else parse_size(max_memory))
