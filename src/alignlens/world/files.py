"""Reading world files: TOML for people, JSON for machines, one schema (docs/world-files.md).

Files are data: they are parsed, never executed. Every problem becomes a `WorldError`
naming the file, the field and the fix.
"""

from __future__ import annotations

import json
import stat
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alignlens.errors import Problem, WorldError
from alignlens.world.assemble import assemble, scalar_problems
from alignlens.world.examples import is_example_path, resolve_example_path
from alignlens.world.gridworld import compile_gridworld
from alignlens.world.model import World
from alignlens.world.schema import GridWorldSpec, TabularWorldSpec
from alignlens.world.tabular import compile_tabular


def load_world(path: str | Path) -> World:
    """Read, validate and compile a world file (.toml or .json); ``examples/...`` falls back
    to the example files that ship with alignlens (`resolve_example_path`)."""
    path = resolve_example_path(path)
    source = str(path)
    data = read_document(path, kind="world")
    return world_from_dict(data, source=source)


def world_from_dict(data: dict[str, Any], *, source: str = "<python>") -> World:
    """Validate and compile a world given as the parsed document of a world file."""
    if not isinstance(data, dict):
        raise WorldError(
            "the document is not a table of fields",
            file=source,
            fix="write the world as a TOML file or a JSON object",
        )
    model: type[TabularWorldSpec | GridWorldSpec] = (
        GridWorldSpec if "gridworld" in data else TabularWorldSpec
    )
    spec = parse_model(model, data, source, WorldError)
    try:
        if isinstance(spec, GridWorldSpec):
            raw = compile_gridworld(spec, source)
        else:
            raw = compile_tabular(spec, source)
    except WorldError as error:
        # Names or tiles are wrong, so the checks that need them cannot run; the numbers
        # that need no names are checked all the same, to report every problem at once.
        scalars = scalar_problems(spec.discount, spec.horizon, spec.deploy_share)
        raise WorldError.many([*scalars, error], file=source) from None
    return assemble(raw)


def read_document(path: Path, *, kind: str) -> Any:
    """Parse a TOML or JSON file; syntax errors name the line. A missing ``examples/...``
    file is read from the installed example files (`resolve_example_path`)."""
    path = resolve_example_path(path)
    source = str(path)
    text = _read_text(path, kind)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise WorldError(
            f"unknown file type {suffix!r}", file=source, fix="use a .toml or .json file"
        )
    try:
        if suffix == ".json":
            return json.loads(text, object_pairs_hook=_no_duplicates)
        return tomllib.loads(text)
    except json.JSONDecodeError as error:
        raise WorldError(
            f"JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}",
            file=source,
            fix="correct the JSON syntax on that line",
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise WorldError(
            f"TOML syntax error: {error}", file=source, fix="correct the TOML syntax on that line"
        ) from None
    except _DuplicateKey as error:
        raise WorldError(
            f"the key {error.key!r} appears twice in one object",
            file=source,
            fix="give each key once (JSON would otherwise keep only the last)",
        ) from None
    except RecursionError:
        raise WorldError(
            "the document is nested too deeply to read",
            file=source,
            fix="write the world as the documented tables and lists, a few levels deep",
        ) from None
    except ValueError as error:  # e.g. an integer of thousands of digits
        raise WorldError(
            f"the document holds a value that cannot be read ({error})",
            file=source,
            fix="write numbers as ordinary decimals (e.g. 0.5, 1e-3)",
        ) from None


FILE_LIMIT = 64 * 2**20
"""The largest world or policy file read (64 MiB): larger ones are refused unread."""


def _read_text(path: Path, kind: str) -> str:
    """The text of a regular file of at most `FILE_LIMIT` bytes (a FIFO, a device or a
    folder is refused before it is opened, so nothing blocks or reads without end)."""
    source = str(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise WorldError(f"no such {kind} file", file=source, fix=_missing_fix(path)) from None
    except OSError as error:
        raise WorldError(
            f"cannot read the file ({error.strerror})",
            file=source,
            fix="give a readable UTF-8 text file",
        ) from None
    if not stat.S_ISREG(info.st_mode):
        what = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise WorldError(
            f"the {kind} path is {what}", file=source, fix=f"give the path of a {kind} file"
        )
    if info.st_size > FILE_LIMIT:
        raise WorldError(
            f"the file has {info.st_size:,} bytes, more than the {FILE_LIMIT:,} read",
            file=source,
            fix=f"give a smaller {kind} file (a gridworld file describes large worlds briefly)",
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(FILE_LIMIT + 1)
        if len(data) > FILE_LIMIT:
            raise WorldError(
                f"the file holds more than the {FILE_LIMIT:,} bytes read",
                file=source,
                fix=f"give a smaller {kind} file",
            )
        return data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise WorldError(
            f"cannot read the file ({error})", file=source, fix="give a readable UTF-8 text file"
        ) from None


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _missing_fix(path: Path) -> str:
    if is_example_path(path):
        return (
            "check the path: `alignlens examples` lists the example files that ship with "
            "alignlens (read from there when this folder has no examples/), and "
            "`alignlens examples --copy .` copies them here"
        )
    return "check the path (`alignlens examples` lists the example world files)"


_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove the field or check its spelling",
    "float_parsing": "use a number",
    "float_type": "use a number",
    "int_parsing": "use a whole number",
    "int_type": "use a whole number",
    "int_from_float": "use a whole number",
    "string_type": "use a quoted name",
    "list_type": "use a list",
    "dict_type": "use a table",
    "tuple_type": "use a list of the right length",
    "too_short": "give every element of the row",
    "too_long": "remove the extra elements of the row",
}


M = TypeVar("M", bound=BaseModel)


def parse_model(model: type[M], data: Any, source: str, error: type[WorldError]) -> M:
    """Validate ``data`` against ``model``; every problem Pydantic finds is reported, in
    one error naming each field and its fix."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error.many(_problems(exc.errors()), file=source) from None


_UNION_MEMBERS = ("LevelSpec", "str")  # how Pydantic tags the members of `LevelSpec | str`


def _problems(errors: list[Any]) -> list[Problem]:
    """Pydantic's errors as problems. A value that fits no member of a union gets one
    error per member: where some member got further into the value (a level table with a
    misspelt key), only its errors are kept; else they become one problem."""
    groups: dict[tuple, list[Any]] = {}
    for n, e in enumerate(errors):
        loc = tuple(e["loc"])
        cut = next((i for i, part in enumerate(loc) if part in _UNION_MEMBERS), None)
        groups.setdefault(("union", loc[:cut]) if cut is not None else ("plain", n), []).append(e)
    out = []
    for (kind, at), group in groups.items():
        deeper = [e for e in group if kind == "union" and len(e["loc"]) > len(at) + 1]
        if kind == "union" and not deeper:
            messages = dict.fromkeys(e["msg"].rstrip(".") for e in group)
            fix = 'write the level as a quoted ASCII map or as a table {map = "...", weight = 1}'
            out.append(Problem(_field_path(at), "; ".join(messages), fix))
            continue
        for e in deeper or group:
            fix = _FIXES.get(e["type"], "see the world file schema in docs/world-files.md")
            out.append(Problem(_field_path(e["loc"]), e["msg"].rstrip("."), fix))
    return out


def _field_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("LevelSpec", "str", "function-after[...]"):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"
