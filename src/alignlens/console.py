"""What every command of the command line shares: the consoles, the `--json` option and
its printer, and the rule that bad input is one message on stderr and exit status 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from alignlens.errors import AlignlensError

console = Console()
errors = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn an `AlignlensError` into one message on stderr (one line per problem when it
    carries several) and exit status 2."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AlignlensError as error:
            # The message quotes file content (names, fields with brackets): never markup.
            message = Text.assemble(("error:", "bold red"), " ", str(error))
            errors.print(message, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
