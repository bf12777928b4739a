"""The demons' figures plot exactly the runs they are given, beside their counterfactuals."""

from __future__ import annotations

import numpy as np

from alignlens.demons.meiotic_drive import Drive, evolve_with_drive
from alignlens.demons.tessellating_hills import Hills, run_hills
from alignlens.report.figures import drive_figure, hills_figure


def lines(ax) -> dict[str, np.ndarray]:
    return {line.get_label(): np.asarray(line.get_ydata()) for line in ax.get_lines()}


def test_drive_figure_shows_the_run_the_recursion_and_fair_meiosis(tmp_path) -> None:
    run = evolve_with_drive(Drive(), 0.05, 500, 60, seed=0)
    fig = drive_figure(run)
    (ax,) = fig.axes
    drawn = lines(ax)
    np.testing.assert_array_equal(drawn["N = 500, k = 0.8"], run.path)
    np.testing.assert_array_equal(drawn["recursion (N = ∞)"], run.expected)
    np.testing.assert_array_equal(drawn["fair meiosis (k = ½), same seed"], run.fair_path)
    fig.savefig(tmp_path / "drive.png")
    assert (tmp_path / "drive.png").stat().st_size > 0


def test_hills_figure_shows_progress_and_the_demon_coordinates(tmp_path) -> None:
    runs = run_hills(Hills(steps=300), (0, 1))
    fig = hills_figure(runs, 1)
    progress, demon = fig.axes
    drawn = lines(progress)
    np.testing.assert_array_equal(drawn["ε = 0.0025"], runs.x0[1])
    np.testing.assert_array_equal(drawn["channel removed (counterfactual)"], runs.x0_fair[1])
    np.testing.assert_allclose(drawn["ideal (ηt)"], 0.2 * np.arange(301))
    np.testing.assert_array_equal(lines(demon)["ε = 0.0025"], runs.spread[1])
    fig.savefig(tmp_path / "hills.png")
    assert (tmp_path / "hills.png").stat().st_size > 0
