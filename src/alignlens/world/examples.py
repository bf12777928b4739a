"""The example world files that ship with alignlens (``examples/`` in the source tree)."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from importlib import resources
from pathlib import Path

from alignlens.errors import AlignlensError


def examples_dir() -> Path:
    """The folder of example worlds: inside the installed package, or the source tree's."""
    packaged = Path(str(resources.files("alignlens"))) / "examples"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "examples"


def example_paths() -> list[Path]:
    """Every example world file, sorted by name."""
    folder = examples_dir()
    return sorted([*folder.glob("*.toml"), *folder.glob("*.json")])


def resolve_example_path(path: str | Path) -> Path:
    """``path``, or where it lies in the installed copy of the example files.

    A path that does not exist and whose first component is ``examples`` (the commands of
    the documentation, written in a source checkout) is read from `examples_dir`, so
    ``examples/lava.toml`` works after ``pip install .`` in any folder. Any other path, or
    one the installed copy lacks too, is returned as given.
    """
    path = Path(path)
    if path.exists() or not is_example_path(path):
        return path
    shipped = examples_dir().joinpath(*path.parts[1:])
    return shipped if shipped.exists() else path


def is_example_path(path: str | Path) -> bool:
    """Whether ``path`` is relative and starts with ``examples/`` (see `resolve_example_path`)."""
    path = Path(path)
    return not path.is_absolute() and path.parts[:1] == ("examples",)


def example_summary(path: Path) -> str:
    """One line about an example file: the first sentence of its leading comment (TOML),
    else of its ``description``, else its ``name``, else nothing."""
    text = path.read_text(encoding="utf-8")
    comment = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        comment.append(line.lstrip("#").strip())
    if not comment:
        try:
            document = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        except ValueError:
            return ""
        if not isinstance(document, dict):
            return ""
        comment = [str(document.get("description") or document.get("name") or "")]
    return _SENTENCE_END.split(" ".join(comment).strip(), maxsplit=1)[0]


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")


def copy_examples(folder: Path) -> tuple[Path, int]:
    """Copy every example file (with ``policies/`` and the example lens package) into
    ``folder/examples``, refusing (before copying anything) where a file of that name
    exists. Returns the folder written and the number of files copied."""
    source = examples_dir()
    files = sorted(
        p
        for p in source.rglob("*")
        if p.is_file()
        and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(source).parts)
    )
    target = folder / "examples"
    for path in files:
        if (target / path.relative_to(source)).exists():
            raise AlignlensError(
                "the file exists; nothing was copied",
                file=str(target / path.relative_to(source)),
                fix=f"remove it (or the folder {target}) or give --copy another folder",
            )
    for path in files:
        (target / path.relative_to(source)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / path.relative_to(source))
    return target, len(files)
