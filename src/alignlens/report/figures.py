"""Figures of the demons' runs, each beside its counterfactual (Matplotlib, imported
lazily; install the ``report`` extra).

- `drive_figure`: the driver's frequency per generation in the finite population, the
  recursion from the same start, and the same population under fair meiosis.
- `hills_figure`: x₀ per step against the ideal ηt and the ε = 0 counterfactual, and
  max_j |x_j| per step (the demon's coordinates) against the counterfactual's.

Each returns a `matplotlib.figure.Figure` (no window is opened), for a report or
``fig.savefig(path)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from alignlens.demons.meiotic_drive import DriveRun
from alignlens.demons.tessellating_hills import HillsRuns

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEMON, FAIR = "tab:red", "tab:blue"  # the run with its inner optimiser, the counterfactual


def _figure(columns: int) -> tuple[Figure, list]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.0 * columns, 3.6), layout="constrained")
    axes = [fig.add_subplot(1, columns, i + 1) for i in range(columns)]
    return fig, axes


def drive_figure(run: DriveRun) -> Figure:
    """Frequency of D per generation: with drive, the recursion, and under fair meiosis."""
    fig, (ax,) = _figure(1)
    generations = np.arange(run.path.size)
    d = run.drive
    ax.plot(generations, run.path, color=DEMON, label=f"N = {run.population}, k = {d.k:g}")
    ax.plot(generations, run.expected, "--", color="grey", label="recursion (N = ∞)")
    ax.plot(generations, run.fair_path, color=FAIR, label="fair meiosis (k = ½), same seed")
    ax.set(
        xlabel="generation",
        ylabel="frequency of D",
        ylim=(-0.02, 1.02),
        title=f"meiotic drive (s = {d.s:g}, h = {d.h:g})",
    )
    ax.legend(loc="center right")
    return fig


def hills_figure(runs: HillsRuns, index: int = 0) -> Figure:
    """Progress and the demon's coordinates per step for run ``index``."""
    fig, (progress, demon) = _figure(2)
    h = runs.hills
    steps = np.arange(runs.x0.shape[1])
    progress.plot(steps, h.eta * steps, "--", color="grey", label="ideal (ηt)")
    progress.plot(steps, runs.x0_fair[index], color=FAIR, label="ε = 0 (counterfactual)")
    progress.plot(steps, runs.x0[index], color=DEMON, label=f"ε = {h.epsilon:g}")
    progress.set(xlabel="step", ylabel="x₀", title=f"landscape {runs.seeds[index]}: progress")
    progress.legend(loc="upper left")
    demon.plot(steps, runs.spread_fair[index], color=FAIR, label="ε = 0 (counterfactual)")
    demon.plot(steps, runs.spread[index], color=DEMON, label=f"ε = {h.epsilon:g}")
    demon.set(xlabel="step", ylabel="max_j |x_j|", title="the demon's coordinates")
    demon.legend(loc="upper left")
    return fig
