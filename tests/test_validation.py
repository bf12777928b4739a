"""Every bad input of DESIGN §6 gives one message naming the file, the field and the fix;
the command line exits with status 2 and prints no traceback."""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlens.cli import app
from alignlens.errors import WorldError
from alignlens.world import load_world

TABULAR = {
    "name": "t",
    "discount": 0.9,
    "states": ["s0", "s1", "s2"],
    "actions": ["left", "right"],
    "train": {
        "start": {"s0": 1.0},
        "transitions": [["s0", "left", "s1", 1.0], ["s0", "right", "s2", 1.0]],
        "terminal": ["s1", "s2"],
    },
    "deploy": {
        "start": {"s0": 1.0},
        "transitions": [["s0", "left", "s1", 1.0], ["s0", "right", "s2", 1.0]],
        "terminal": ["s1", "s2"],
    },
    "objectives": {"base": [["s0", "left", 1.0]], "intended": [["s0", "right", 1.0]]},
}

GRID = {
    "name": "g",
    "discount": 0.9,
    "gridworld": {
        "legend": {"#": "wall", ".": "floor", "A": "start", "G": "goal"},
        "terminal": ["goal"],
        "train": ["#####\n#A.G#\n#####"],
        "deploy": ["#####\n#A.G#\n#####"],
    },
    "objectives": {"base": {"goal": 1.0}},
}


def edit(base: dict, change: Callable[[dict], None]) -> dict:
    d = copy.deepcopy(base)
    change(d)
    return d


def setter(path: str, value: object) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        *head, last = path.split(".")
        for key in head:
            d = d[int(key)] if key.isdigit() else d[key]
        d[int(last) if last.isdigit() else last] = value

    return change


# (case id, world dict, field named in the message, words in the message)
CASES = [
    (
        "negative probability",
        edit(TABULAR, setter("train.transitions.0", ["s0", "left", "s1", -1.0])),
        "train.transitions[0]",
        "probability",
    ),
    (
        "nan probability",
        edit(TABULAR, setter("train.transitions.0", ["s0", "left", "s1", math.nan])),
        "train.transitions[0]",
        "probability",
    ),
    (
        "probabilities not summing to 1",
        edit(TABULAR, setter("deploy.transitions.1", ["s0", "right", "s2", 0.7])),
        "deploy.transitions",
        "sum to 0.7",
    ),
    (
        "start not summing to 1",
        edit(TABULAR, setter("train.start", {"s0": 0.5})),
        "train.start",
        "sum to 0.5",
    ),
    (
        "nan reward",
        edit(TABULAR, setter("objectives.base", [["s0", "left", math.nan]])),
        "objectives.base",
        "reward",
    ),
    (
        "infinite reward",
        edit(TABULAR, setter("objectives.intended", [["s0", "*", math.inf]])),
        "objectives.intended",
        "reward",
    ),
    (
        "reward at a terminal state",
        edit(TABULAR, setter("objectives.base", [["s1", "left", 1.0]])),
        "objectives.base",
        "terminal state 's1'",
    ),
    (
        "unknown state",
        edit(TABULAR, setter("train.transitions.0", ["s0", "left", "s9", 1.0])),
        "train.transitions[0][2]",
        "unknown state 's9'",
    ),
    (
        "unknown action",
        edit(TABULAR, setter("train.transitions.0", ["s0", "jump", "s1", 1.0])),
        "train.transitions[0][1]",
        "unknown action 'jump'",
    ),
    (
        "unknown state in start",
        edit(TABULAR, setter("deploy.start", {"nowhere": 1.0})),
        "deploy.start",
        "unknown state",
    ),
    (
        "reachable state without transitions",
        edit(TABULAR, setter("train.terminal", ["s2"])),
        "train.transitions",
        "no transition for action",
    ),
    ("discount zero", edit(TABULAR, setter("discount", 0.0)), "discount", "outside (0, 1]"),
    ("discount above one", edit(TABULAR, setter("discount", 1.5)), "discount", "outside (0, 1]"),
    (
        "discount one without horizon",
        edit(TABULAR, setter("discount", 1.0)),
        "horizon",
        "needs a finite horizon",
    ),
    (
        "deploy share out of range",
        edit(TABULAR, setter("deploy_share", 2.0)),
        "deploy_share",
        "outside [0, 1]",
    ),
    ("missing field", edit(TABULAR, lambda d: d.pop("states")), "states", "required"),
    ("unknown field", edit(TABULAR, setter("colour", "red")), "colour", "not permitted"),
    (
        "row of the wrong length",
        edit(TABULAR, setter("objectives.base", [["s0", 1.0]])),
        "objectives.base[0]",
        "",
    ),
    (
        "ragged level",
        edit(GRID, setter("gridworld.train.0", "#####\n#A.G#\n####")),
        "gridworld.train[0]",
        "ragged",
    ),
    (
        "unknown tile",
        edit(GRID, setter("gridworld.deploy.0", "#####\n#A?G#\n#####")),
        "gridworld.deploy[0]",
        "tile '?'",
    ),
    (
        "level without start",
        edit(GRID, setter("gridworld.train.0", "#####\n#..G#\n#####")),
        "gridworld.train[0]",
        "no start",
    ),
    (
        "unknown tile type in rewards",
        edit(GRID, setter("objectives.base", {"gold": 1.0})),
        "objectives.base",
        "unknown tile type 'gold'",
    ),
    (
        "unknown terminal tile type",
        edit(GRID, setter("gridworld.terminal", ["exit"])),
        "gridworld.terminal",
        "unknown tile type 'exit'",
    ),
    (
        "features of an unknown tile type",
        edit(GRID, setter("gridworld.features", {"gold": ["shiny"]})),
        "gridworld.features.gold",
        "unknown tile type 'gold'",
    ),
    (
        "slip out of range",
        edit(GRID, setter("gridworld.slip", 1.5)),
        "gridworld.slip",
        "outside [0, 1]",
    ),
    (
        "legend key of two characters",
        edit(GRID, setter("gridworld.legend", {"##": "wall", "A": "start", ".": "floor"})),
        "gridworld.legend",
        "single character",
    ),
    (
        "non-positive level weight",
        edit(GRID, setter("gridworld.train.0", {"map": "#####\n#A.G#\n#####", "weight": 0.0})),
        "gridworld.train[0].weight",
        "not positive",
    ),
]


@pytest.fixture
def write(tmp_path: Path) -> Callable[[dict], Path]:
    def _write(d: dict) -> Path:
        path = tmp_path / "world.json"
        path.write_text(json.dumps(d))  # NaN and Infinity are written as JSON extensions
        return path

    return _write


def test_the_valid_bases_load(write) -> None:
    load_world(write(TABULAR))
    load_world(write(GRID))


@pytest.mark.parametrize(("case", "world", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_world_names_file_field_and_fix(write, case, world, field, words) -> None:
    path = write(world)
    with pytest.raises(WorldError) as info:
        load_world(path)
    error = info.value
    assert error.file == str(path)
    assert error.field is not None and error.field.startswith(field)
    assert error.fix
    message = str(error)
    assert str(path) in message and "Fix:" in message and words in message


@pytest.mark.parametrize(("case", "world", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_cli_exits_2_with_one_message(write, case, world, field, words) -> None:
    path = write(world)
    result = CliRunner().invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\ndiscount = 0.9\nstates = ["a", \n[train\n')
    with pytest.raises(WorldError, match=r"line 4"):
        load_world(path)


def test_json_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "name": "x",\n  "discount": 0.9,,\n}')
    with pytest.raises(WorldError, match=r"line 3"):
        load_world(path)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(WorldError, match="no such world file"):
        load_world(tmp_path / "absent.toml")
    other = tmp_path / "world.yaml"
    other.write_text("name: x")
    with pytest.raises(WorldError, match=r"unknown file type '\.yaml'"):
        load_world(other)


def test_bad_tolerance_option_exits_2(examples) -> None:
    result = CliRunner().invoke(app, ["analyze", str(examples / "two-doors.toml"), "--tau", "3"])
    assert result.exit_code == 2
    assert "--tau" in result.output


def test_real_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "x"\ndiscount = 2.0\n')
    proc = subprocess.run(
        [sys.executable, "-m", "alignlens.cli", "analyze", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and "Fix:" in proc.stderr
    assert proc.stdout == ""
