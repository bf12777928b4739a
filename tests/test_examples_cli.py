"""The example files outside a checkout: `examples/...` paths fall back to the copy that
ships with alignlens, and `alignlens examples` lists and copies them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlens.cli import app
from alignlens.world import examples as shipped
from alignlens.world import load_world
from alignlens.world.examples import example_paths, examples_dir, resolve_example_path

ROOT = Path(__file__).resolve().parents[1]
DIAGNOSE = [
    "diagnose",
    "examples/lava.toml",
    "--policy",
    "examples/policies/lava-memorised-route.json",
    "--json",
]


@pytest.fixture
def empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def test_documented_diagnose_runs_in_an_empty_folder(empty: Path) -> None:
    result = CliRunner().invoke(app, DIAGNOSE)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["world"] == load_world(ROOT / "examples" / "lava.toml").name
    assert list(empty.iterdir()) == []


def test_examples_paths_read_the_installed_copy(
    tmp_path: Path, empty: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the package ships its own copy (a wheel), that copy is the one read.
    installed = tmp_path / "site" / "alignlens" / "examples"
    shutil.copytree(ROOT / "examples", installed)
    monkeypatch.setattr(shipped, "examples_dir", lambda: installed)
    assert resolve_example_path("examples/lava.toml") == installed / "lava.toml"
    assert resolve_example_path(Path("examples/policies/two-doors-left.json")) == (
        installed / "policies" / "two-doors-left.json"
    )
    result = CliRunner().invoke(app, DIAGNOSE)
    assert result.exit_code == 0, result.output
    # A file in the current folder wins over the installed copy.
    (empty / "examples").mkdir()
    here = empty / "examples" / "lava.toml"
    shutil.copyfile(installed / "lava.toml", here)
    assert resolve_example_path("examples/lava.toml") == Path("examples/lava.toml")
    # Paths that do not start with examples/ are left alone.
    assert resolve_example_path("lava.toml") == Path("lava.toml")
    assert resolve_example_path("other/examples/lava.toml") == Path("other/examples/lava.toml")


def test_missing_files_still_exit_2(empty: Path) -> None:
    result = CliRunner().invoke(app, ["diagnose", "nowhere.toml", "--policy", "p.json"])
    assert result.exit_code == 2
    assert "no such world file" in result.output
    missing_policy = ["diagnose", "examples/lava.toml", "--policy", "examples/policies/no.json"]
    result = CliRunner().invoke(app, missing_policy)
    assert result.exit_code == 2
    assert "no such policy file" in result.output
    assert "alignlens examples" in result.output
    result = CliRunner().invoke(app, ["analyze", "examples/no-such-world.toml"])
    assert result.exit_code == 2
    assert "no such world file" in result.output
    assert "alignlens examples" in result.output


def test_examples_lists_every_world(empty: Path) -> None:
    result = CliRunner().invoke(app, ["examples"])
    assert result.exit_code == 0, result.output
    worlds = sorted(p.name for p in (ROOT / "examples").iterdir() if p.suffix in (".toml", ".json"))
    assert worlds == [p.name for p in example_paths()]
    for name in worlds:
        assert name in result.stdout
    for policy in (ROOT / "examples" / "policies").glob("*.json"):
        assert policy.name in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_examples_copy_copies_then_refuses(empty: Path) -> None:
    result = CliRunner().invoke(app, ["examples", "--copy", "."])
    assert result.exit_code == 0, result.output
    source = examples_dir()
    expected = sorted(
        str(p.relative_to(source))
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    copied = sorted(str(p.relative_to(empty / "examples")) for p in empty.rglob("*") if p.is_file())
    assert copied == expected
    assert "policies/lava-memorised-route.json" in copied
    assert "lens-package/src/deployment_lens/__init__.py" in copied  # the example lens
    assert (empty / "examples" / "lava.toml").read_bytes() == (source / "lava.toml").read_bytes()

    (empty / "examples" / "lava.toml").write_text("# mine\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["examples", "--copy", "."])
    assert result.exit_code == 2
    assert "exists" in result.output
    assert "lava.toml" in result.output or "birth-control.toml" in result.output
    assert "Fix:" in result.output
    assert (empty / "examples" / "lava.toml").read_text(encoding="utf-8") == "# mine\n"


def test_examples_copy_into_a_new_folder(empty: Path) -> None:
    result = CliRunner().invoke(app, ["examples", "--copy", "work/here"])
    assert result.exit_code == 0, result.output
    assert (empty / "work" / "here" / "examples" / "policies" / "two-doors-left.json").is_file()
    # The copied files are the ones read from now on.
    result = CliRunner().invoke(app, ["analyze", "work/here/examples/two-doors.toml", "--json"])
    assert result.exit_code == 0, result.output
