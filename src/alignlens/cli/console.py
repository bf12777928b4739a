"""What every command of the command line shares: the consoles, the `--json` option and
its printer, the rule that bad input is one message on stderr and exit status 2, and the
progress shown while long work runs.

Progress is drawn live on stderr only when stderr is a terminal; under ``--json`` or
``--quiet`` nothing is shown, and in a pipe one line at the end says what was done and
how long it took."""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from alignlens.cli.options import flags
from alignlens.errors import AlignlensError
from alignlens.progress import Amount, listening

# Every string printed is literal: names, paths, keys and tiles come from the user's files,
# and Rich markup in them ("[/]", "[link=…]") must neither fail nor style anything. Styles
# are given as Text and styles, never as markup.
console = Console(markup=False)
errors = Console(stderr=True, markup=False)

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(command: F) -> F:
    """Turn an `AlignlensError` into one message on stderr (one line per problem when it
    carries several) and exit status 2. The library names fields and settings; a setting
    the command sets by an option is named by the option where a fix names it, and as the
    field of an error about no file (a file's errors name the file's own fields)."""
    options = flags(command)

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AlignlensError as error:
            error = error.renamed(options, fields=error.file is None)
            # The message quotes file content (names, fields with brackets): never markup.
            message = Text.assemble(("error:", "bold red"), " ", str(error))
            errors.print(message, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except MemoryError:  # past what the estimates foresaw
            message = Text.assemble(
                ("error:", "bold red"),
                " ran out of memory. Fix: give a smaller world, or a smaller --max-memory so "
                "that alignlens refuses such worlds before it starts",
            )
            errors.print(message, markup=False, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")


AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="Show no progress (errors are still shown).")
]

StageListener = Callable[[str, str, Amount, Amount], None]


@contextlib.contextmanager
def progress_of_runs(what: str, total: int, *, quiet: bool) -> Iterator[StageListener]:
    """Progress of ``total`` named runs: a bar for the whole and a line for each run at
    work, showing its stage. Yields the listener to give the runs: (run, stage, done,
    total of that stage); the stage "done" ends a run."""
    started = time.perf_counter()
    if quiet or not errors.is_terminal:
        yield lambda *_: None
        if not quiet:
            elapsed = time.perf_counter() - started
            runs = "done" if total == 1 else f"{total} runs"
            errors.print(f"{what}: {runs} in {elapsed:.1f} s", highlight=False)
        return
    from rich.progress import TimeElapsedColumn

    with _live(TimeElapsedColumn()) as progress:
        whole = progress.add_task(what, total=total)
        working: dict[str, Any] = {}

        def tell(run: str, stage: str, done: Amount, of: Amount) -> None:
            if stage == "done":
                if run in working:
                    progress.remove_task(working.pop(run))
                progress.advance(whole)
                return
            label = f"  {run}: {stage}"
            if run not in working:
                working[run] = progress.add_task(label, total=of)
            progress.update(working[run], description=label, completed=done or 0, total=of)

        yield tell


@contextlib.contextmanager
def progress_of_stages(what: str, *, quiet: bool) -> Iterator[None]:
    """Progress of one piece of work that reports its stages (`alignlens.progress`): its
    current stage, with a bar where the stage says how far along it is."""
    with (
        progress_of_runs(what, 1, quiet=quiet) as tell,
        listening(lambda stage, done, total: tell(what, stage, done, total)),
    ):
        yield


@contextlib.contextmanager
def progress_of_count(what: str, unit: str, *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """Progress of work counted in ``unit`` (e.g. worlds): done of total, the rate per
    second and the time left. Yields ``advance(done, total)``."""
    started = time.perf_counter()
    state = {"done": 0}
    if quiet or not errors.is_terminal:

        def count(done: int, total: int) -> None:
            state["done"] = done

        yield count
        if not quiet:
            elapsed = time.perf_counter() - started
            rate = state["done"] / elapsed if elapsed > 0 else 0.0
            errors.print(
                f"{what}: {state['done']} {unit} in {elapsed:.1f} s ({rate:,.0f} {unit}/s)",
                highlight=False,
            )
        return
    from rich.progress import TaskProgressColumn, TextColumn, TimeRemainingColumn

    rate_column = TextColumn("{task.fields[rate]}", markup=False)
    with _live(rate_column, TaskProgressColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task(what, total=None, rate="")

        def advance(done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            rate = f"{done / elapsed:,.0f} {unit}/s" if elapsed > 0 else ""
            progress.update(task, completed=done, total=total, rate=rate)

        yield advance


def _live(*columns: Any) -> Any:
    """A live display on stderr, gone when done: what, a bar, done of total, ``columns``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        *columns,
        console=errors,
        transient=True,
    )
