"""Options of the command line: generated from the library's typed configs, so a field
added to `Tolerances` or `WorldSpec` is an option at once, with its type (a Literal
becomes a choice), its default and the help of its docstring.

`config_options` gives a command the fields of a config as options and hands the command
the values given, by field name. A Literal field is a choice: its options are listed in
the help, and a value outside them is one error naming the option and the choices (as
every other bad input is), not a usage screen. `flags` names the option of each field,
so an error the library raises about a field is reported as being about the option
(`console`).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from alignlens.errors import AlignlensError

F = TypeVar("F", bound=Callable[..., Any])

SEED_MAX = 2**32 - 1  # seeds are 32-bit (JAX's keys and NumPy's generators take them)


def field_help(config: type) -> dict[str, str]:
    """Each field's description from the "Attributes:" section of the config's docstring,
    on one line."""
    doc = inspect.getdoc(config) or ""
    _, _, section = doc.partition("Attributes:\n")
    found: dict[str, str] = {}
    name = None
    for line in section.splitlines():
        head = re.match(r"^    (\w+): (.*)$", line)
        if head:
            name, text = head.groups()
            found[name] = text
        elif name and line.startswith("        "):
            found[name] += " " + line.strip()
        elif line.strip():
            break
    return found


def flag_of(name: str) -> str:
    return "--" + name.replace("_", "-")


def config_options(
    into: str,
    config: type,
    *,
    only: Sequence[str] | None = None,
    defaults: Mapping[str, Any] | None = None,
    help: Mapping[str, str] | None = None,
) -> Callable[[F], F]:
    """Give a command the fields of the dataclass ``config`` as options (``only`` some of
    them, with other ``defaults`` or ``help`` where given); the command receives the values
    as a dict by field name in its parameter ``into`` (the config is built by the command,
    which may fill in what the options leave open)."""
    hints = typing.get_type_hints(config, include_extras=True)
    texts = {**field_help(config), **(help or {})}
    fields = [f for f in dataclasses.fields(config) if only is None or f.name in only]
    chosen = {**{f.name: f.default for f in fields}, **(defaults or {})}

    def decorate(command: F) -> F:
        signature = inspect.signature(command, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != into]
        added = []
        for f in fields:
            kind, metavar = hints[f.name], None
            if typing.get_origin(kind) is typing.Literal:
                metavar = "|".join(str(c) for c in typing.get_args(kind))
                kind = str
            if chosen[f.name] is None and type(None) not in typing.get_args(kind):
                kind = kind | None
            option = typer.Option(flag_of(f.name), help=texts.get(f.name, ""), metavar=metavar)
            added.append(
                inspect.Parameter(
                    f.name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=chosen[f.name],
                    annotation=Annotated[kind, option],
                )
            )

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {f.name: kwargs.pop(f.name) for f in fields}
            for name, value in values.items():
                one_of(name, value, hints[name])
            return command(*args, **kwargs, **{into: values})

        keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in kept]
        wrapper.__signature__ = signature.replace(parameters=[*keyword, *added])  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def one_of(name: str, value: Any, kind: Any) -> None:
    """Refuse a value outside a Literal type's choices, naming the field."""
    choices = typing.get_args(kind) if typing.get_origin(kind) is typing.Literal else ()
    if choices and value not in choices:
        raise AlignlensError(
            f"{value!r} is not one of {', '.join(map(str, choices))}",
            field=name,
            fix=f"give `{name}` as one of {', '.join(map(str, choices))}",
        )


def choice(kind: Any, help: str, *names: str) -> Any:
    """An option whose value must be one of a Literal type's choices, listed in its help;
    the library checks the value (so a wrong one is the usual one-line error)."""
    metavar = "|".join(str(c) for c in typing.get_args(kind))
    return Annotated[str, typer.Option(*names, help=help, metavar=metavar)]


def flags(command: Callable[..., Any]) -> dict[str, str]:
    """The option of each of a command's parameters: its first declared name, else the
    parameter's name as an option."""
    found = {}
    for name, p in inspect.signature(command, eval_str=True).parameters.items():
        declared = [
            d
            for info in typing.get_args(p.annotation)[1:]
            if isinstance(info, typer.models.ParameterInfo)
            # typer.Option("--set", ...) keeps its first name as the default
            for d in (info.default, *(getattr(info, "param_decls", None) or ()))
            if isinstance(d, str) and d.startswith("--")
        ]
        if typing.get_origin(p.annotation) is not Annotated:
            found[name] = flag_of(name)
            continue
        arguments = [
            info
            for info in typing.get_args(p.annotation)[1:]
            if isinstance(info, typer.models.ArgumentInfo)
        ]
        found[name] = name.upper() if arguments else (declared[0] if declared else flag_of(name))
    return found


WorldFile = Annotated[Path, typer.Argument(help="World file (.toml or .json).")]
Seed = Annotated[int, typer.Option(help="Random seed.", min=0, max=SEED_MAX)]
ScenarioSeed = Annotated[
    int, typer.Option(help="With --scenario: the random seed.", min=0, max=SEED_MAX)
]
Why = Annotated[
    bool,
    typer.Option(
        "--why",
        help="Say, for every pair of lenses with different verdicts, what separates them here.",
    ),
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
