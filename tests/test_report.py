"""HTML reports, their figures and the terminal pictures.

The golden file pins the verdict table of red-door-exit (exhaustive search over planners,
deterministic); regenerate it with ALIGNLENS_UPDATE_GOLDEN=1 after a deliberate change and
read the diff. Paths are checked against breadth-first search on the level's ASCII map,
figures against the numbers they plot, and the page as a whole in headless Chromium.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections import deque
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from alignlens.cli import app
from alignlens.lenses import lens_names
from alignlens.report import pages
from alignlens.report.figures import (
    disagreement_figure,
    share_figure,
    trace_figure,
    verdicts_figure,
)
from alignlens.report.html import verdict_table
from alignlens.report.levels import most_likely_path
from alignlens.report.terminal import level_pictures
from alignlens.scenarios import run_scenario

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def red_door():
    return run_scenario("red-door-exit")


@pytest.fixture(scope="module")
def lava():
    return run_scenario("lava-correct")


def scenario_table(run) -> str:
    s = run.scenario
    rows = [((s.id, run.optimizer), run.diagnosis.verdicts, s.expected)]
    return str(verdict_table(f"{s.id}: the verdict of every lens", ["scenario", "optimiser"], rows))


def test_verdict_table_html_matches_the_golden_file(red_door) -> None:
    golden = GOLDEN / "red-door-exit-verdicts.html"
    html = scenario_table(red_door)
    if os.environ.get("ALIGNLENS_UPDATE_GOLDEN") == "1":
        golden.write_text(html, encoding="utf-8")
    assert html == golden.read_text(encoding="utf-8")


def shortest(level: str, start: str, goal: str) -> int:
    """Breadth-first search on an ASCII map: the fewest moves from ``start`` to ``goal``."""
    rows = level.strip("\n").split("\n")
    cells = {(r, c): ch for r, line in enumerate(rows) for c, ch in enumerate(line)}
    first = next(p for p, ch in cells.items() if ch == start)
    seen, todo = {first: 0}, deque([first])
    while todo:
        r, c = todo.popleft()
        if cells[r, c] == goal:
            return seen[r, c]
        for nxt in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1)):
            if cells.get(nxt, "#") != "#" and nxt not in seen:
                seen[nxt] = seen[r, c] + 1
                todo.append(nxt)
    raise AssertionError("unreachable")


def test_paths_are_the_planners_shortest_routes_to_red(red_door, examples) -> None:
    """planner(reach_red) (exhaustive search's pick) heads for red: in training the red exit
    X, in deployment the red object r; slip is 0, so its most likely path is a shortest
    route, as long as breadth-first search on the file's maps says."""
    spec = tomllib.loads((examples / "red-door-exit.toml").read_text())["gridworld"]
    evidence = red_door.diagnosis.evidence
    world, grid = evidence.world, evidence.world.grid
    lengths = {}
    for env, goal, tile in (("train", "X", "red_exit"), ("deploy", "r", "red")):
        (start,) = np.flatnonzero(world.environment(env).start > 0)
        path = most_likely_path(world, evidence.policy.acting_in(env), env, int(start))
        end = world.base_state[path[-1]]
        level = grid.levels[grid.level[end]]
        assert grid.tile_types[level[grid.row[end], grid.col[end]]] == tile
        lengths[env] = len(path) - 1
        assert lengths[env] == shortest(spec[env][0]["map"], "A", goal)
    # The terminal picture draws an arrow in every cell of both paths but S and ●.
    console = Console(record=True, width=200, color_system=None)
    console.print(level_pictures(world, evidence.policy))
    text = console.export_text()
    assert sum(text.count(a) for a in "↑↓←→") == lengths["train"] - 1 + lengths["deploy"] - 1
    assert "train: train[0]" in text and "deploy: deploy[0]" in text


def test_share_and_trace_figures_plot_the_analysis(lava) -> None:
    objectives = lava.diagnosis.analysis.objectives
    profile = objectives.share_profile
    (ax,) = share_figure(objectives).axes
    lines = ax.get_lines()
    dots = next(line for line in lines if line.get_label() == "worst regret over Opt(λ, R)")
    np.testing.assert_array_equal(dots.get_xdata(), profile.vertices)
    np.testing.assert_array_equal(dots.get_ydata(), [r.max for r in profile.at_vertices])
    segments = [line for line in lines if line.get_linestyle() == "-" and line is not dots]
    assert [line.get_ydata()[0] for line in segments] == [r.max for r in profile.on_segments]
    assert len(ax.patches) == len(objectives.outer_aligned_shares.intervals)
    trace = lava.diagnosis.evidence.trace
    train, deploy = trace_figure(trace).axes
    for ax, env in ((train, "train"), (deploy, "deploy")):
        drawn = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
        np.testing.assert_array_equal(drawn["R (base)"], trace.returns[f"{env}_base"])
        np.testing.assert_array_equal(drawn["U (intended)"], trace.returns[f"{env}_intended"])
        goals = lava.diagnosis.evidence.world.goals
        assert goals and len(drawn) == 2 + len(goals)
        for goal in goals:
            np.testing.assert_array_equal(
                drawn[f"goal {goal}"], trace.returns[f"{env}_goal:{goal}"]
            )


def test_reports_are_deterministic_for_a_fixed_seed(lava) -> None:
    """Two runs of lava-correct (Q-learning, seed 0) give the same page, byte for byte:
    the levels with paths, the training trace and the λ plot included."""
    again = run_scenario("lava-correct")
    first, second = pages.scenario_report(lava).html(), pages.scenario_report(again).html()
    assert first == second
    assert first.count("<img ") == 3


@pytest.mark.slow
def test_sweep_figures_count_the_rows(tmp_path) -> None:
    from alignlens.sweep.claims import summary
    from alignlens.sweep.generator import WorldSpec
    from alignlens.sweep.runner import run_sweep
    from alignlens.sweep.store import open_store

    store = tmp_path / "s.db"
    run_sweep(WorldSpec(states=5, actions=2), 40, 0, str(store))
    with open_store(store) as results:
        rows = results.rows()
    document = summary(rows)
    lenses = lens_names()
    (ax,) = verdicts_figure(document["verdicts"]).axes[:1]
    heights = {}
    for container in ax.containers:
        category = container.get_label().replace(" ", "_")
        for lens, bar in zip(lenses, container, strict=True):
            heights[lens, category] = bar.get_height()
    for lens, counts in document["verdicts"].items():
        for category, n in counts.items():
            assert heights[lens, category] == n
    image = disagreement_figure(document).axes[0].images[0].get_array()
    for i, x in enumerate(lenses):  # recounted from the rows themselves
        for j, y in enumerate(lenses):
            differ = sum(r["verdicts"][x] != r["verdicts"][y] for r in rows)
            assert image[i, j] == pytest.approx(differ / len(rows), abs=1e-15)
    # The CLI report of the store: claims, both figures, the category-pair table.
    out = tmp_path / "sweep.html"
    result = CliRunner().invoke(app, ["report", "--store", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.count("<img ") == 2 and "No world violates claims 1–3." in page
    assert "claims over 40 worlds" in page


def red_door_expected() -> dict[str, str]:
    from alignlens.scenarios import scenarios

    return dict(scenarios()["red-door-exit"].expected)


def images(page: str) -> list[str]:
    return re.findall(r'<img src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]+" alt="[^"]+">', page)


def test_report_of_a_scenario_and_of_a_world_and_policy(tmp_path, examples) -> None:
    out = tmp_path / "red.html"
    result = CliRunner().invoke(app, ["report", "--scenario", "red-door-exit", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert len(images(page)) == page.count("<img ") == 2  # the levels, the λ plot
    assert page.count('<td class="verdict cat-') == len(lens_names())
    for lens, category in red_door_expected().items():  # the card's expected verdicts, listed
        assert f"<li>{lens} {category}:" in page
    assert "http://" not in page.replace("http://www.w3.org", "")  # self-contained
    out = tmp_path / "doors.html"
    policy = examples / "policies" / "two-doors-left.json"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--world",
            str(examples / "two-doors.toml"),
            "--policy",
            str(policy),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().count('<td class="verdict cat-') == len(lens_names())


@pytest.mark.parametrize(
    "arguments, field",
    [
        ([], "report"),
        (["--tour", "--scenario", "coin"], "report"),
        (["--world", str(ROOT / "examples" / "two-doors.toml")], "--policy"),
        (["--scenario", "red-door-exit", "--out", "no/such/folder/r.html"], "--out"),
    ],
)
def test_bad_report_requests_are_clear_errors(tmp_path, monkeypatch, arguments, field) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", *arguments])
    assert result.exit_code == 2 and field in result.output and "Fix:" in result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_tour_report_in_headless_chromium(tour) -> None:
    """The tour's page in real Chromium: every figure decoded with a non-zero size, one
    table row per scenario, and a screenshot kept in test-artifacts/."""
    from alignlens.scenarios import scenarios

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        if os.environ.get("ALIGNLENS_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required here (.ci/run installs Debian's chromium)")
        pytest.skip("Chromium is not installed (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    _, page_path = tour
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=flags)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(page_path.as_uri())
            shown = page.evaluate(
                "() => [...document.images].map(i => ({ok: i.complete, w: i.naturalWidth, "
                "h: i.getBoundingClientRect().height, alt: i.alt}))"
            )
            rows = page.evaluate("() => document.querySelector('table.verdicts tbody').rows.length")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "tour.png"), full_page=True)
        finally:
            browser.close()
    assert len(shown) >= len(scenarios())  # every scenario shows at least one figure
    for image in shown:
        assert image["ok"] and image["w"] > 0 and image["h"] > 0 and image["alt"], image
    assert rows == len(scenarios())
    assert (ARTIFACTS / "tour.png").stat().st_size > 0
