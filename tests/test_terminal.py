"""The terminal tables at 80 columns (a pipe, a CI log): no line wider, nothing cut with an
ellipsis, no word broken, and every category and condition name shown whole."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

from alignlens.cli import app
from alignlens.lenses import lens_names
from alignlens.lenses.verdict import Category
from alignlens.report.terminal import (
    CATEGORY_LABELS,
    scenarios_table,
    tour_table,
    verdict_table,
    world_tables,
)
from alignlens.scenarios import run_scenario
from alignlens.scenarios import scenarios as catalogue

WIDTH = 80
REGRET_LINE = "regret: 0 = as good as the best policy in the class, 1 = as bad as the worst"


def render(renderable) -> str:
    console = Console(width=WIDTH, record=True, color_system=None, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def whole(word: str, text: str) -> bool:
    """`word` appears on one line, not as part of a longer name (outer_W in outer_W_prime)."""
    pattern = rf"(?<![\w-]){re.escape(word)}(?![\w-])"
    return any(re.search(pattern, line) for line in text.splitlines())


def assert_readable(text: str, words) -> None:
    lines = text.splitlines()
    assert lines, "nothing printed"
    widest = max(lines, key=len)
    assert len(widest) <= WIDTH, f"{len(widest)} columns: {widest!r}"
    assert "…" not in text, next(line for line in lines if "…" in line)
    missing = [w for w in words if not whole(w, text)]
    assert not missing, f"not shown whole: {missing}\n{text}"


def legend_words() -> list[str]:
    """Every category's legend entry: its label and its name."""
    return [*CATEGORY_LABELS.values(), *map(str, Category)]


@pytest.fixture(scope="module")
def cheap_runs():
    return [run_scenario(s) for s in ("virus", "red-door-exit", "greedy-genes")]


@pytest.mark.parametrize("index", [0, 1, 2], ids=["virus", "red-door-exit", "greedy-genes"])
def test_verdict_table_fits_80_columns(cheap_runs, index) -> None:
    run = cheap_runs[index]
    verdicts = dict(run.diagnosis.verdicts)
    text = render(verdict_table(run.diagnosis.analysis, verdicts))
    words = [*lens_names(), *(str(v.category) for v in verdicts.values())]
    words += [name for v in verdicts.values() for name in v.conditions]
    assert_readable(text, words)
    assert REGRET_LINE in text
    for v in verdicts.values():  # a plain-words line for each verdict shown
        assert any(line.lstrip().startswith(f"{v.category}:") for line in text.splitlines())


def fake_runs(mark_every: int) -> list[SimpleNamespace]:
    """Every scenario of the catalogue with its longest optimiser name and its expected row,
    every `mark_every`-th verdict changed so that it differs (the widest cells)."""
    runs, i = [], 0
    for s in catalogue().values():
        verdicts = {}
        for lens, category in s.expected.items():
            i += 1
            if i % mark_every == 0:
                category = (
                    "capability_robustness" if category != "capability_robustness" else "outer"
                )
            verdicts[lens] = SimpleNamespace(category=Category(category))
        runs.append(
            SimpleNamespace(
                scenario=s,
                optimizer=max(s.optimizers, key=len),
                diagnosis=SimpleNamespace(verdicts=verdicts),
            )
        )
    return runs


@pytest.mark.parametrize("mark", [True, False])
def test_tour_table_fits_80_columns(cheap_runs, mark) -> None:
    for runs in (cheap_runs, fake_runs(3)):
        text = render(tour_table("the essay's cases: the verdict of every lens", runs, mark=mark))
        words = [r.scenario.id for r in runs] + [r.optimizer for r in runs]
        assert_readable(text, [*words, *legend_words(), *lens_names()])
        marked = any("!" in line for line in text.splitlines() if line.startswith("│"))
        assert marked == (mark and runs is not cheap_runs)  # the cheap runs are as expected


def test_scenarios_table_fits_80_columns() -> None:
    entries = list(catalogue().values())
    text = render(scenarios_table(entries))
    words = [s.id for s in entries] + [o for s in entries for o in s.optimizers]
    assert_readable(text, [*words, *legend_words(), *lens_names()])


def invoke(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(WIDTH)})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_scenarios_command_at_80_columns() -> None:
    text = invoke("scenarios")
    assert_readable(text, [*catalogue(), *legend_words()])


@pytest.mark.parametrize("name", ["two-doors.toml", "lava.toml", "icy-bridge.json"])
def test_analyze_at_80_columns(examples, name) -> None:
    text = invoke("analyze", str(examples / name))
    assert_readable(text, ["Opt(train, R)", "Opt(deploy, R)", "optimum", "worst"])
    assert REGRET_LINE in text


@pytest.mark.parametrize(
    ("world", "policy"),
    [("lava.toml", "lava-memorised-route.json"), ("two-doors.toml", "two-doors-left.json")],
)
def test_diagnose_at_80_columns(examples, world, policy) -> None:
    from alignlens.diagnosis import diagnose

    result = diagnose(examples / world, examples / "policies" / policy)
    text = invoke(
        "diagnose", str(examples / world), "--policy", str(examples / "policies" / policy)
    )
    words = [*lens_names(), *(str(v.category) for v in result.verdicts.values())]
    words += [name for v in result.verdicts.values() for name in v.conditions]
    assert_readable(text, words)
    assert REGRET_LINE in text


@pytest.mark.parametrize("scenario", ["virus", "red-door-exit", "greedy-genes"])
def test_run_at_80_columns(scenario) -> None:
    text = invoke("run", scenario)
    assert_readable(text, [*lens_names(), "other_goal_competence"])
    assert REGRET_LINE in text


def test_world_tables_have_no_ellipsis(examples) -> None:
    from alignlens.solve import analyze_world
    from alignlens.tolerances import Tolerances
    from alignlens.world import load_world

    analysis = analyze_world(load_world(examples / "icy-bridge.json"), Tolerances())
    assert_readable(render(world_tables(analysis)), ["Opt(λ, R)", "bounds"])


@pytest.mark.slow
def test_sweep_report_at_80_columns(tmp_path) -> None:
    from alignlens.sweep.generator import WorldSpec
    from alignlens.sweep.runner import run_sweep

    store = tmp_path / "s.db"
    run_sweep(WorldSpec(states=6, actions=3, shift="deploy-states"), 40, 0, str(store))
    text = invoke("sweep", "report", "--store", str(store))
    assert_readable(text, ["claims", *lens_names(), "wentworth/two_d"])
    assert "outer_W and full_opt ⇒ aligned" in text  # each claim in words
    assert any(line.startswith("capability_robustness:") for line in text.splitlines())


@pytest.mark.slow
def test_tour_command_at_80_columns(tour_runs, tmp_path, monkeypatch) -> None:
    """The tour's two tables, on the session's scenario runs (the whole catalogue)."""
    import alignlens.cli.scenarios

    monkeypatch.setattr(
        alignlens.cli.scenarios, "run_tour_with_progress", lambda quiet: (*tour_runs, {})
    )
    text = invoke("tour", "--out", str(tmp_path / "tour.html"))
    runs, perfect = tour_runs
    words = [r.scenario.id for r in runs] + [r.optimizer for r in runs + perfect]
    assert_readable(text, [*words, *legend_words(), *lens_names()])
