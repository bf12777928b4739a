"""The `alignlens` application: every command, registered in the order `--help` lists
them, and the option that applies to all of them."""

from __future__ import annotations

from typing import Annotated

import typer

from alignlens.cli import catalogue, gym, scenarios, sweep, worlds
from alignlens.cli.console import reports_errors
from alignlens.limits import parse_size, set_budget

app = typer.Typer(
    name="alignlens",
    help="Exact numbers and a verdict under every definition of inner and outer alignment.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # help text is plain: a docstring's single line breaks are spaces
    pretty_exceptions_enable=False,
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


app.command()(worlds.analyze)
app.command()(worlds.diagnose)
app.command("diagnose-gym")(gym.diagnose_gym)
app.command()(catalogue.scenarios)
app.command("lenses")(catalogue.lenses)
app.command()(catalogue.examples)
app.command()(scenarios.run)
app.command()(scenarios.tour)
app.command()(worlds.sensitivity)
app.command()(scenarios.report)
app.add_typer(sweep.app, name="sweep")
