"""Reading world files: TOML for people, JSON for machines, one schema (DESIGN §6).

Files are data: they are parsed, never executed. Every problem becomes a `WorldError`
naming the file, the field and the fix.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alignlens.errors import WorldError
from alignlens.world.assemble import assemble
from alignlens.world.gridworld import compile_gridworld
from alignlens.world.model import World
from alignlens.world.schema import GridWorldSpec, TabularWorldSpec
from alignlens.world.tabular import compile_tabular


def load_world(path: str | Path) -> World:
    """Read, validate and compile a world file (.toml or .json)."""
    path = Path(path)
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
        raise error.located(source) from None
    return assemble(raw)


def read_document(path: Path, *, kind: str) -> Any:
    """Parse a TOML or JSON file; syntax errors name the line."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorldError(f"no such {kind} file", file=source, fix="check the path") from None
    except (OSError, UnicodeDecodeError) as error:
        raise WorldError(
            f"cannot read the file ({error})", file=source, fix="give a readable UTF-8 text file"
        ) from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise WorldError(
                f"JSON syntax error at line {error.lineno}, column {error.colno}: {error.msg}",
                file=source,
                fix="correct the JSON syntax on that line",
            ) from None
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise WorldError(
                f"TOML syntax error: {error}",
                file=source,
                fix="correct the TOML syntax on that line",
            ) from None
    raise WorldError(f"unknown file type {suffix!r}", file=source, fix="use a .toml or .json file")


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
    """Validate ``data`` against ``model``; the first problem becomes one clear error."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first["loc"])
        fix = _FIXES.get(first["type"], "see the world file schema in DESIGN §6 and docs/")
        raise error(first["msg"].rstrip("."), file=source, field=field, fix=fix) from None


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
