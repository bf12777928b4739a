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


# All the problems of a file at once: checks that do not depend on each other all run,
# and one error (one message, exit status 2) lists every problem with its field and fix.


def problems_of(path: Path) -> WorldError:
    with pytest.raises(WorldError) as info:
        load_world(path)
    return info.value


def assert_cli_lists(path: Path, fields: list[str]) -> str:
    result = CliRunner().invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"error: {path}: {len(fields)} problems:\n")
    lines = result.stderr.rstrip("\n").split("\n")[1:]
    assert len(lines) == len(fields)
    for line, field in zip(lines, fields, strict=True):
        assert line.startswith(f"  - {field}: ") and ". Fix: " in line
    return result.stderr


def test_a_tabular_file_with_three_mistakes_reports_all_three(write) -> None:
    world = edit(TABULAR, setter("deploy_share", 2.0))
    world["train"]["transitions"][0][3] = 0.5  # s0, left sums to 0.5
    world["objectives"]["base"] = [["s1", "left", 1.0]]  # a reward at a terminal state
    path = write(world)
    error = problems_of(path)
    fields = ["deploy_share", "train.transitions", "objectives.base"]
    assert [p.field for p in error.problems] == fields
    assert all(p.fix for p in error.problems)
    message = str(error)
    assert message.startswith(f"{path}: 3 problems:\n")
    for words in ("outside [0, 1]", "sum to 0.5", "terminal state 's1' has a reward"):
        assert words in message
    assert_cli_lists(path, fields)


def test_unknown_names_are_reported_together_with_the_numbers(write) -> None:
    world = edit(TABULAR, setter("discount", 1.5))
    world["train"]["transitions"][0][2] = "s9"
    world["deploy"]["transitions"][1][1] = "jump"
    world["objectives"]["intended"] = [["nowhere", "right", 1.0]]
    path = write(world)
    error = problems_of(path)
    fields = [
        "discount",
        "train.transitions[0][2]",
        "deploy.transitions[1][1]",
        "objectives.intended[0][0]",
    ]
    assert [p.field for p in error.problems] == fields
    for words in ("unknown state 's9'", "unknown action 'jump'", "unknown state 'nowhere'"):
        assert words in str(error)
    assert "sum to" not in str(error)  # sums need valid names: that stage is not reached
    assert_cli_lists(path, fields)


def test_several_rows_that_do_not_sum_to_one_are_each_reported(write) -> None:
    world = copy.deepcopy(TABULAR)
    world["train"]["transitions"] = [["s0", "left", "s1", 0.5], ["s0", "right", "s2", 0.25]]
    world["deploy"]["transitions"][0][3] = -1.0
    error = problems_of(write(world))
    assert [p.field for p in error.problems] == [
        "train.transitions",
        "train.transitions",
        "deploy.transitions[0]",
    ]
    assert "action 'left' sum to 0.5" in str(error) and "action 'right' sum to 0.25" in str(error)


def test_a_gridworld_file_with_two_mistakes_reports_both(write) -> None:
    world = edit(GRID, setter("gridworld.slip", 1.5))
    world["gridworld"]["train"] = ["#####\n#A?G#\n#####"]
    path = write(world)
    error = problems_of(path)
    fields = ["gridworld.slip", "gridworld.train[0]"]
    assert [p.field for p in error.problems] == fields
    assert "outside [0, 1]" in str(error) and "tile '?' at row 1, column 2" in str(error)
    assert_cli_lists(path, fields)


def test_every_bad_tile_of_every_level_is_reported(write) -> None:
    world = copy.deepcopy(GRID)
    world["gridworld"]["train"] = ["#####\n#A?G#\n#?..#\n####", "#####\n#..G#\n#####"]
    world["gridworld"]["deploy"] = ["#####\n#A!G#\n#####"]
    world["objectives"] = {"base": {"goal": 1.0, "gold": 2.0}}
    message = str(problems_of(write(world)))
    for words in (
        "gridworld.train[0]: row 3 has 4 characters",
        "gridworld.train[0]: tile '?' at row 1, column 2 is not in the legend (and 1 more place)",
        "gridworld.train[1]: the level has no start tile",
        "gridworld.deploy[0]: tile '!' at row 1, column 2",
        "objectives.base: unknown tile type 'gold'",
    ):
        assert words in message
    assert "5 problems" in message


def test_a_file_with_two_schema_errors_reports_both(write) -> None:
    world = edit(TABULAR, lambda d: d.pop("states"))
    world["colour"] = "red"
    path = write(world)
    error = problems_of(path)
    assert [p.field for p in error.problems] == ["states", "colour"]
    assert "Field required" in str(error) and "not permitted" in str(error)
    assert_cli_lists(path, ["states", "colour"])


def test_the_single_problem_message_is_unchanged(write) -> None:
    path = write(edit(TABULAR, setter("discount", 0.0)))
    error = problems_of(path)
    assert len(error.problems) == 1
    expected = (
        f"{path}: discount: discount 0.0 is outside (0, 1]. "
        "Fix: use a discount greater than 0 and at most 1, for example 0.9"
    )
    assert str(error) == expected
    result = CliRunner().invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2 and result.stderr == f"error: {expected}\n"


def test_error_text_is_printed_as_is_not_as_markup(tmp_path: Path) -> None:
    path = tmp_path / "[bold]world[red].json"
    world = copy.deepcopy(TABULAR)
    world["train"]["transitions"][0][2] = "[red]s9"
    world["deploy"]["transitions"][0][2] = "[/]"
    path.write_text(json.dumps(world))
    result = CliRunner().invoke(app, ["analyze", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert f"{path}: 2 problems:" in result.stderr
    assert "unknown state '[red]s9'" in result.stderr and "unknown state '[/]'" in result.stderr


def test_a_long_list_of_problems_is_cut_with_a_count() -> None:
    from alignlens.errors import SHOWN, Problem

    error = WorldError.many(
        [Problem(f"f{i}", "bad", "fix it") for i in range(SHOWN + 5)], file="w.toml"
    )
    lines = str(error).split("\n")
    assert lines[0] == f"w.toml: {SHOWN + 5} problems:"
    assert len(lines) == SHOWN + 2 and lines[-1] == "  - and 5 more problems"
    assert WorldError.many([Problem("f", "bad", "fix it")] * 2).problems == (
        Problem("f", "bad", "fix it"),
    )  # repeats are one problem


def chain_world(n: int) -> dict:
    """s0 → s1 → ... → s{n} (terminal), one action."""
    states = [f"s{i}" for i in range(n + 1)]
    rows = [[states[i], "go", states[i + 1], 1.0] for i in range(n)]
    env = {"start": {"s0": 1.0}, "transitions": rows, "terminal": [states[-1]]}
    return {
        "name": "chain",
        "discount": 0.9,
        "states": states,
        "actions": ["go"],
        "train": env,
        "deploy": env,
        "objectives": {},
    }


def test_a_policy_file_reports_every_unknown_and_missing_state(tmp_path: Path, write) -> None:
    from alignlens.errors import PolicyError
    from alignlens.policies.tabular import load_policy

    world = load_world(write(chain_world(6)))
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"policy": {"s0": "go", "s1": "jump", "x": "go", "y": "go"}}))
    with pytest.raises(PolicyError) as info:
        load_policy(world, path)
    error = info.value
    assert [p.field for p in error.problems] == ["policy.s1", "policy.x", "policy.y", "policy.s2"]
    message = str(error)
    assert message.startswith(f"{path}: 4 problems:")
    assert "states 's2', 's3', 's4', 's5' are reachable" in message

    many = load_world(write(chain_world(30)))
    path.write_text(json.dumps({"policy": {}}))
    with pytest.raises(PolicyError) as info:
        load_policy(many, path)
    assert len(info.value.problems) == 1
    assert "'s19' and 10 more are reachable" in str(info.value) and "(30 such states)" in str(
        info.value
    )
