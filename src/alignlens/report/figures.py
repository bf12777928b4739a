"""Figures for reports (Matplotlib, imported lazily).

- `drive_figure`: the driver's frequency per generation in the finite population, the
  recursion from the same start, and the same population under fair meiosis.
- `hills_figure`: x₀ per step against the ideal ηt and the counterfactual without the
  demon's channel, and
  max_j |x_j| per step (the demon's coordinates) against the counterfactual's.
- `gridworld_figure`: every training and deployment level, tiles labelled, with the
  policy's most likely action in each cell and its most likely path from each start.
- `trace_figure`: exact returns under R, U and each recorded goal, in training and
  deployment, per training step or generation.
- `share_figure`: the worst deployment regret under U over Opt(λ, R) against λ, with the
  set where outer alignment holds shaded.
- `verdicts_figure`, `disagreement_figure`: a sweep's verdicts per lens, and how often
  two lenses give different categories.
- `sensitivity_figure`: one strip per lens along one parameter (λ, ε, τ, κ or χ), coloured
  by category where the lens gives it, the default marked.

Each returns a `matplotlib.figure.Figure` (no window is opened); `svg_of` writes one as
SVG text, the same bytes for the same figure.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from jaxtyping import Float

from alignlens.report.levels import levels_of, most_likely_path, tile_label

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from alignlens.analysis import WorldAnalysis
    from alignlens.demons.meiotic_drive import DriveRun
    from alignlens.demons.tessellating_hills import HillsRuns
    from alignlens.learned import Trace
    from alignlens.policies.tabular import TabularPolicy
    from alignlens.sensitivity import Strip
    from alignlens.world.model import World

DEMON, FAIR = "tab:red", "tab:blue"  # the run with its inner optimiser, the counterfactual
ARROWS = {"up": (0.0, -0.3), "down": (0.0, 0.3), "left": (-0.3, 0.0), "right": (0.3, 0.0)}
TILE_COLOURS = {  # tile types by name; others take the next colour of a fixed cycle
    "wall": "#3b3b3b",
    "floor": "#ffffff",
    "lava": "#e8743b",
    "exit": "#5fb760",
    "goal": "#5fb760",
    "coin": "#f2c12e",
    "red": "#d9534f",
    "red_exit": "#c0392b",
}
CYCLE = ("#8fb8de", "#c9a0dc", "#a3d9a5", "#f7b7a3", "#d1d1a0", "#9ad1d4")


def _figure(
    columns: int,
    rows: int = 1,
    height: float = 3.6,
    width: float = 5.0,
    layout: str | None = None,
) -> tuple[Figure, list]:
    """A figure of rows × columns axes, each ``width`` × ``height`` inches, with fixed
    margins for tick labels and a title; ``layout="constrained"`` lets Matplotlib fit
    long labels instead (which doubles the time to draw)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * columns, height * rows), layout=layout)
    if layout is None:
        w, h = width * columns, height * rows
        fig.subplots_adjust(
            left=0.75 / w, right=1 - 0.2 / w, bottom=0.6 / h, top=1 - 0.45 / h, wspace=0.3
        )
    axes = [fig.add_subplot(rows, columns, i + 1) for i in range(rows * columns)]
    return fig, axes


def svg_of(fig: Figure) -> str:
    """The figure as SVG text, deterministic: no date, fixed element ids; text stays text
    (the browser sets it), which is small and quick to write."""
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "alignlens", "svg.fonttype": "none"}):
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


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
    progress.plot(steps, runs.x0_fair[index], color=FAIR, label="channel removed (counterfactual)")
    progress.plot(steps, runs.x0[index], color=DEMON, label=f"ε = {h.epsilon:g}")
    progress.set(xlabel="step", ylabel="x₀", title=f"landscape {runs.seeds[index]}: progress")
    progress.legend(loc="upper left")
    demon.plot(steps, runs.spread_fair[index], color=FAIR, label="channel removed")
    demon.plot(steps, runs.spread[index], color=DEMON, label=f"ε = {h.epsilon:g}")
    demon.set(xlabel="step", ylabel="max_j |x_j|", title="the demon's coordinates")
    demon.legend(loc="upper left")
    return fig


def gridworld_figure(world: World, policy: TabularPolicy) -> Figure:
    """Training levels (left) and deployment levels (right), each with the policy's most
    likely action per cell (small arrows) and its most likely path from each start tile
    (a line from S to ●)."""
    from matplotlib.colors import ListedColormap

    grid = world.grid
    if grid is None:
        raise ValueError(f"world {world.name!r} is not a gridworld")
    columns = {env: levels_of(world, env) for env in ("train", "deploy")}
    rows = max(len(levels) for levels in columns.values())
    height = max(grid.levels[j].shape[0] for j in range(len(grid.levels)))
    fig, axes = _figure(2, rows, height=0.5 * height + 1.0)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.6 / fig.get_figheight())
    extra = [t for t in grid.tile_types if t not in TILE_COLOURS]
    colours = [TILE_COLOURS.get(t) or CYCLE[extra.index(t) % len(CYCLE)] for t in grid.tile_types]
    cmap = ListedColormap(colours)
    base = world.base_state
    first_state = {}  # base state → its first state (step 0 when a horizon unrolls time)
    for s in range(world.n_states - 1, -1, -1):
        if base[s] >= 0:
            first_state[int(base[s])] = s
    for col, env in enumerate(("train", "deploy")):
        for row in range(rows):
            ax = axes[row * 2 + col]
            ax.set_axis_off()
            if row < len(columns[env]):
                j = columns[env][row]
                ax.imshow(
                    grid.levels[j],
                    cmap=cmap,
                    vmin=0,
                    vmax=len(colours) - 1,
                    interpolation="nearest",
                )
                ax.set_title(f"{env}: level {grid.level_names[j]}", fontsize=10)
                _draw_level(ax, world, policy.acting_in(env), env, j, first_state)
    fig.suptitle(f"{policy.name} in {world.name}: training (left), deployment (right)")
    return fig


def _draw_level(
    ax: Any,
    world: World,
    table: Float[np.ndarray, "S A"],
    env_name: str,
    j: int,
    first_state: Mapping[int, int],
) -> None:
    """Level ``j``'s tile labels, the most likely action in each cell, and the most likely
    path from each start tile."""

    grid, e, base = world.grid, world.environment(env_name), world.base_state
    tiles = grid.levels[j]
    for r, c in zip(*np.nonzero(tiles > 1), strict=True):
        label = tile_label(grid.tile_types[tiles[r, c]])
        ax.text(c, r, label, ha="center", va="center", fontsize=8, color="black")
    for b in np.flatnonzero(grid.level == j):
        s = first_state.get(int(b))
        if s is None or e.terminal[s]:
            continue
        dx, dy = ARROWS.get(world.actions[int(np.argmax(table[s]))], (0.0, 0.0))
        x, y = grid.col[b] - dx / 2, grid.row[b] - dy / 2
        ax.arrow(x, y, dx, dy, width=0.03, head_width=0.15, length_includes_head=True, color="grey")
    for s in np.flatnonzero(e.start > 0):
        if base[s] < 0 or grid.level[base[s]] != j:
            continue
        path = [base[t] for t in most_likely_path(world, table, env_name, int(s))]
        path = [b for b in path if b >= 0]
        xs, ys = grid.col[path], grid.row[path]
        ax.plot(xs, ys, "-", color="black", linewidth=2.5)
        ax.plot(xs[-1], ys[-1], "o", color="black", markersize=7)
        box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "black"}
        ax.text(
            xs[0], ys[0], "S", ha="center", va="center", fontsize=9, fontweight="bold", bbox=box
        )


def trace_figure(trace: Trace) -> Figure:
    """Exact returns per step under R (solid), U (dashed) and each recorded goal (dotted,
    with markers): training, then deployment."""
    fig, (train, deploy) = _figure(2)
    goals = [k.removeprefix("train_goal:") for k in trace.returns if k.startswith("train_goal:")]
    markers = "osd^v<>"
    for ax, env in ((train, "train"), (deploy, "deploy")):
        ax.plot(trace.step, trace.returns[f"{env}_base"], "-", color="black", label="R (base)")
        ax.plot(
            trace.step, trace.returns[f"{env}_intended"], "--", color=DEMON, label="U (intended)"
        )
        for k, goal in enumerate(goals):
            ax.plot(
                trace.step,
                trace.returns[f"{env}_goal:{goal}"],
                ":",
                marker=markers[k % len(markers)],
                markevery=max(1, len(trace.step) // 8),
                color=CYCLE[k % len(CYCLE)],
                label=f"goal {goal}",
            )
        ax.set(xlabel="step or generation", ylabel="exact return", title=f"{env}")
        ax.legend(loc="best", fontsize=8)
    return fig


def share_figure(objectives: WorldAnalysis) -> Figure:
    """Worst deployment regret under U over Opt(λ, R) for λ ∈ [0, 1] (lines on the open
    segments, dots at the vertices), τ dashed, the λ where outer alignment holds shaded
    (and hatched), and the world's λ dotted."""
    profile = objectives.share_profile
    if profile is None:
        raise ValueError("the worst regret over Opt(λ, R) is not known exactly for this world")
    tau, share = objectives.tolerances.tau, objectives.tolerances.deploy_share
    fig, (ax,) = _figure(1)
    for i in objectives.outer_aligned_shares.intervals:
        low, high = (i.low - 0.004, i.high + 0.004) if i.low == i.high else (i.low, i.high)
        ax.axvspan(
            low,
            high,
            color="#a3d9a5",
            alpha=0.6,
            hatch="//",
            linewidth=0,
            label="outer alignment holds"
            if i is objectives.outer_aligned_shares.intervals[0]
            else None,
        )
    for j, r in enumerate(profile.on_segments):
        lo, hi = profile.vertices[j], profile.vertices[j + 1]
        ax.plot([lo, hi], [r.max, r.max], "-", color="black", linewidth=2)
    ax.plot(
        profile.vertices,
        [r.max for r in profile.at_vertices],
        "o",
        color="black",
        label="worst regret over Opt(λ, R)",
    )
    ax.axhline(tau, linestyle="--", color=DEMON, label=f"τ = {tau:g}")
    ax.axvline(share, linestyle=":", color="grey", label=f"this world's λ = {share:g}")
    ax.set(
        xlabel="λ (share of the lifetime in deployment)",
        ylabel="deployment regret under U",
        xlim=(-0.02, 1.02),
        ylim=(-0.05, 1.05),
        title=objectives.world,
    )
    ax.legend(loc="best", fontsize=8)
    return fig


def verdicts_figure(verdicts: Mapping[str, Mapping[str, int]]) -> Figure:
    """Worlds per category, one group of bars per lens (counts written on the bars)."""
    lenses = list(verdicts)
    categories = sorted({c for counts in verdicts.values() for c in counts})
    fig, (ax,) = _figure(1, height=3.0 + 0.25 * len(categories), width=10.0, layout="constrained")
    width = 0.8 / max(1, len(categories))
    hatches = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
    for k, category in enumerate(categories):
        counts = [verdicts[lens].get(category, 0) for lens in lenses]
        x = np.arange(len(lenses)) + k * width
        bars = ax.bar(
            x,
            counts,
            width,
            label=category.replace("_", " "),
            color=CYCLE[k % len(CYCLE)],
            edgecolor="black",
            hatch=hatches[k % len(hatches)],
        )
        ax.bar_label(bars, fontsize=7)
    ax.set_xticks(np.arange(len(lenses)) + 0.4 - width / 2, lenses)
    ax.set(ylabel="worlds", title="verdicts per lens")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return fig


def disagreement_figure(summary: Mapping[str, Any]) -> Figure:
    """For each pair of lenses, the share of a sweep's worlds where their categories differ
    (from its summary's counts; the numbers are written in the cells)."""
    lenses = list(summary["verdicts"])
    n, worlds = len(lenses), max(1, int(summary["worlds"]))
    share = np.zeros((n, n))
    for i, x in enumerate(lenses):
        for j, y in enumerate(lenses[i + 1 :], start=i + 1):
            differ = sum(summary["disagreement"][f"{x}/{y}"].values())
            share[i, j] = share[j, i] = differ / worlds
    fig, (ax,) = _figure(1, height=4.4, layout="constrained")
    image = ax.imshow(share, cmap="Greys", vmin=0.0, vmax=1.0)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f"{share[i, j]:.2f}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if share[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(n), lenses, rotation=30, ha="right")
    ax.set_yticks(range(n), lenses)
    ax.set_title("share of worlds where two lenses' categories differ")
    fig.colorbar(image, ax=ax, shrink=0.8)
    return fig


CATEGORY_COLOURS = {
    "aligned": "#a3d9a5",
    "outer": "#e8743b",
    "inner": "#8fb8de",
    "robustness": "#d1d1a0",
    "optimization": "#c9a0dc",
    "hacked": "#d9534f",
    "capability_robustness": "#f7b7a3",
    "objective_robustness": "#9ad1d4",
}


def sensitivity_figure(strip: Strip) -> Figure:
    """One horizontal strip per lens along the parameter, each piece coloured (and labelled)
    by the category the lens gives there; a dashed line marks the default. ε is drawn on a
    log scale; scanned pieces leave the gaps where a change was bracketed."""
    lenses = list(strip.pieces)
    fig, (ax,) = _figure(1, height=0.9 + 0.38 * len(lenses), width=9.0, layout="constrained")
    log = strip.parameter == "epsilon"
    for row, lens in enumerate(lenses):
        for piece in strip.pieces[lens]:
            low, high = piece.interval.low, piece.interval.high
            if high == low:  # a single point: a thin bar
                high = low * 1.02 if log else low + 0.004
            ax.barh(
                row,
                high - low,
                left=low,
                height=0.7,
                color=CATEGORY_COLOURS.get(piece.category, "#dddddd"),
                edgecolor="black",
                linewidth=0.5,
            )
            middle = (low * high) ** 0.5 if log else 0.5 * (low + high)
            ax.text(
                middle, row, piece.category.replace("_", " "), ha="center", va="center", fontsize=7
            )
    ax.axvline(strip.default, color="black", linestyle="--", linewidth=1.0)
    if log:
        ax.set_xscale("log")
    ax.set_xlim(strip.low, strip.high)
    ax.set_yticks(range(len(lenses)), lenses)
    ax.invert_yaxis()
    exact = "exact pieces" if strip.exact else "scanned: changes located to about 1%"
    ax.set(
        xlabel=f"{strip.symbol} (dashed: the default, {strip.default:g})",
        title=f"every lens's verdict as a function of {strip.symbol} ({exact})",
    )
    return fig
