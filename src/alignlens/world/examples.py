"""The example world files that ship with alignlens (``examples/`` in the source tree)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


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
