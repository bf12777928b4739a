"""Progress of long work: the library reports its stages only to a listener, and the command
line draws them live on a terminal, prints one line at the end in a pipe, and nothing under
--quiet or --json."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from typer.testing import CliRunner

import alignlens.cli.console
from alignlens.cli import app
from alignlens.cli.console import progress_of_count, progress_of_runs
from alignlens.progress import listening, report


def test_reports_reach_only_the_listener_of_their_block() -> None:
    heard: list[tuple] = []
    report("nobody listens", 1, 2)  # no listener: nothing happens
    with listening(lambda *update: heard.append(update)):
        report("first", 0, 3)
        with listening(lambda *update: heard.append(("inner", *update))):
            report("second")
        report("third", 3, 3)
    report("after", 1, 1)
    assert heard == [("first", 0, 3), ("inner", "second", None, None), ("third", 3, 3)]


@pytest.mark.slow
def test_ppo_reports_every_record(examples) -> None:
    from alignlens.optimizers.ppo import PPOConfig, ppo_runs
    from alignlens.world import load_world

    world = load_world(examples / "coin.toml")
    config = PPOConfig(total_steps=1024, n_envs=8, n_steps=16, records=2)
    heard: list[tuple] = []
    with listening(lambda *update: heard.append(update)):
        ppo_runs(world, config, [0, 1])
    stage = "training 2 networks by PPO"
    assert heard == [(stage, 0, 2), (stage, 1, 2), (stage, 2, 2)]


@pytest.mark.slow
def test_a_pipe_gets_one_line_at_the_end(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["sweep", "run", "--worlds", "24", "--store", str(tmp_path / "s.db")]
    )
    assert result.exit_code == 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("sweep: 24 worlds in ") and "worlds/s" in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_quiet_and_json_show_no_progress(tmp_path, flag: str) -> None:
    result = CliRunner().invoke(
        app, ["sweep", "run", "--worlds", "8", "--store", str(tmp_path / "s.db"), flag]
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""


@pytest.fixture
def terminal(monkeypatch) -> io.StringIO:
    """The error console as a terminal, recorded."""
    out = io.StringIO()
    fake = Console(file=out, force_terminal=True, width=80)
    monkeypatch.setattr(alignlens.cli.console, "errors", fake)
    return out


def test_a_terminal_shows_each_run_and_its_stage_live(terminal: io.StringIO) -> None:
    with progress_of_runs("tour", 2, quiet=False) as tell:
        tell("coin", "training 8 networks by PPO", 3, 10)
        tell("virus", "running", None, None)
        alignlens.cli.console.errors.file.flush()
        tell("virus", "done", 1, 1)
        tell("coin", "done", 1, 1)
    drawn = terminal.getvalue()
    assert "coin: training 8 networks by PPO" in drawn
    assert "virus: running" in drawn
    assert "tour" in drawn


def test_a_terminal_shows_the_rate_of_counted_work(terminal: io.StringIO) -> None:
    with progress_of_count("sweep", "worlds", quiet=False) as advance:
        advance(10, 100)
        advance(100, 100)
    drawn = terminal.getvalue()
    assert "sweep" in drawn and "worlds/s" in drawn
    assert "100/100" in drawn


def test_quiet_draws_nothing_even_on_a_terminal(terminal: io.StringIO) -> None:
    with progress_of_runs("tour", 1, quiet=True) as tell:
        tell("coin", "training", 1, 2)
    assert terminal.getvalue() == ""
