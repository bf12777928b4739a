"""End-to-end runs of every command on the shipped examples, including the real entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alignlens.cli import app
from alignlens.world.examples import example_paths

REQUIRED = {"world", "policy_class", "tolerances", "optimum", "worst", "random", "optimal_sets"}


@pytest.mark.parametrize("path", example_paths(), ids=lambda p: p.name)
def test_analyze_json_prints_the_document(path) -> None:
    result = CliRunner().invoke(app, ["analyze", str(path), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc.keys() >= REQUIRED
    for table in ("optimum", "worst", "random"):
        assert set(doc[table]) == {"train", "deploy"}
        assert set(doc[table]["train"]) == {"base", "intended"}
    sets = doc["optimal_sets"]
    assert set(sets["train_base"]) >= {
        "deploy_intended_regret",
        "deploy_base_regret",
        "train_intended_regret",
    }
    for name in ("train_base", "deploy_base", "mixture_base"):
        r = sets[name]["deploy_intended_regret"]
        assert 0.0 <= r["min"] <= r["max"] <= 1.0
    assert isinstance(sets["mixture_base"]["outer_aligned_shares"], list)


def test_lava_document_shows_the_lambda_set(examples) -> None:
    # R = U in the lava world: the training optima are unconstrained on the deployment
    # levels (worst regret 1), but any deployment data (λ > 0) pins them down.
    result = CliRunner().invoke(app, ["analyze", str(examples / "lava.toml"), "--json"])
    doc = json.loads(result.stdout)
    sets = doc["optimal_sets"]
    assert sets["train_base"]["deploy_intended_regret"]["max"] == 1.0
    assert sets["deploy_base"]["deploy_intended_regret"] == {"min": 0.0, "max": 0.0}
    assert sets["mixture_base"]["outer_aligned_shares"] == [[0.0, 1.0]]
    assert sets["mixture_base"]["outer_aligned_shares_notation"] == "(0, 1]"


def test_dynamics_shift_reports_bounds(examples) -> None:
    result = CliRunner().invoke(app, ["analyze", str(examples / "icy-bridge.json"), "--json"])
    doc = json.loads(result.stdout)
    assert doc["shared_dynamics"] is False
    mixed = doc["optimal_sets"]["mixture_base"]["deploy_intended_regret"]
    assert mixed["exact"] is False and mixed["bounds"] == [0.0, 1.0]
    assert doc["optimal_sets"]["mixture_base"]["undetermined_shares"] == [[0.0, 1.0]]


@pytest.mark.slow
def test_analyze_table_and_tour(tour) -> None:
    result = CliRunner().invoke(app, ["analyze", str(example_paths()[0])])
    assert result.exit_code == 0 and "Opt(train, R)" in result.output
    doc, page = tour
    assert doc["report"] == str(page) and page.stat().st_size > 0
    from alignlens.scenarios import scenarios

    assert [row["scenario"] for row in doc["scenarios"]] == list(scenarios())
    for row in doc["scenarios"]:
        assert row["verdicts"] == row["expected"], row["scenario"]


def test_installed_console_script_runs(examples) -> None:
    # The script installed beside this interpreter (another `alignlens` on PATH may belong
    # to another Python).
    script = Path(sys.executable).parent / "alignlens"
    exe = [str(script)] if script.exists() else [sys.executable, "-m", "alignlens.cli"]
    proc = subprocess.run(
        [*exe, "analyze", str(examples / "two-doors.toml"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["world"] == "two-doors"


@pytest.mark.parametrize("seed", ["-1", "99999999999999999999"])
def test_a_seed_out_of_range_is_a_clear_error(seed: str) -> None:
    result = CliRunner().invoke(app, ["run", "virus", "--seed", seed])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--seed" in result.stderr


def test_a_world_file_declares_its_policy_class(examples, tmp_path) -> None:
    """scans.toml declares the observation class: the always-healthy classifier is the
    training optimum there and, at λ = ½, the infinite-data optimum too (worked in the
    file: 0.8 − 0.5λ against 0.2 + 0.5λ), so Wentworth and Hubinger say outer. Judged in
    the tabular class (`--class tabular`), which sees the patient, the same behaviour is
    not optimal in training (the optimum says "sick" to the sick): optimization."""
    world = examples / "scans.toml"
    policy = examples / "policies" / "scans-always-healthy.json"

    def verdicts(*extra: str) -> dict:
        result = CliRunner().invoke(
            app, ["diagnose", str(world), "--policy", str(policy), "--json", *extra]
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    observed = verdicts()
    assert observed["policy_class"].startswith("enumerated: observation policies")
    assert observed["verdicts"]["wentworth"]["category"] == "outer"
    assert observed["verdicts"]["hubinger"]["category"] == "outer"
    tabular = verdicts("--class", "tabular")
    assert tabular["policy_class"] == "tabular"
    assert tabular["verdicts"]["wentworth"]["category"] == "optimization"
    analyzed = CliRunner().invoke(app, ["analyze", str(world), "--json", "--class", "tabular"])
    assert json.loads(analyzed.stdout)["policy_class"] == "tabular"


@pytest.mark.parametrize(
    "case, args, words",
    [
        ("aliased", ["--policy", "SEES"], "which show the same observation 'scan'"),
        ("unknown class", ["--policy", "HEALTHY", "--class", "oracle"], "--class: unknown policy"),
        ("bad file field", ["--policy", "HEALTHY", "--world", "BAD"], "policy_class"),
    ],
)
def test_policy_class_errors(examples, tmp_path, case, args, words) -> None:
    sees = tmp_path / "sees.json"
    sees.write_text('{"policy": {"healthy": "say_healthy", "sick": "say_sick"}}')
    bad = tmp_path / "bad.toml"
    bad.write_text((examples / "scans.toml").read_text().replace('"observation"', '"classifier"'))
    world = str(examples / "scans.toml")
    names = {
        "SEES": str(sees),
        "HEALTHY": str(examples / "policies" / "scans-always-healthy.json"),
    }
    argv = [names.get(a, a) for a in args]
    if "--world" in argv:
        i = argv.index("--world")
        world = str(bad)
        del argv[i : i + 2]
    result = CliRunner().invoke(app, ["diagnose", world, *argv])
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
    assert str(sees) in result.output or case != "aliased"


def test_every_command_and_group_shows_its_help_without_completion_options() -> None:
    """The commands load when they run; each one's help (and the sweep group's) works and
    offers no shell-completion installer."""
    for args in (["--help"], ["sweep", "--help"], ["run", "--help"], ["diagnose-gym", "--help"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
        assert "completion" not in result.output, args
    unknown = CliRunner().invoke(app, ["nope"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output
