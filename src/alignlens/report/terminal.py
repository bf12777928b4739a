"""Rich tables and pictures for the terminal, built from analysis records."""

from __future__ import annotations

import numpy as np
from rich.columns import Columns
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alignlens.analysis import Analysis, Range, WorldAnalysis
from alignlens.lenses.verdict import Condition, Verdict
from alignlens.policies.tabular import TabularPolicy
from alignlens.world.model import World

STEP_GLYPHS = {"up": "↑", "down": "↓", "left": "←", "right": "→"}

SET_TITLES = {
    "train_base": "Opt(train, R)",
    "deploy_base": "Opt(deploy, R)",
    "mixture_base": "Opt(λ, R)",
}
QUANTITY_TITLES = {
    "deploy_intended_regret": "deploy regret under U",
    "deploy_base_regret": "deploy regret under R",
    "train_intended_regret": "train regret under U",
}


def _cell(r: Range) -> str:
    text = f"{r.min:.4g} … {r.max:.4g}"
    if not r.exact:
        lo, hi = r.bounds
        text += f"  (bounds {lo:.4g} … {hi:.4g})"
    return text


def world_tables(analysis: WorldAnalysis) -> Group:
    """The returns table, the optimal-set table and the λ-set line of one world."""
    tol = analysis.tolerances
    returns = Table(title=f"{analysis.world}: returns over the {analysis.policy_class} class")
    returns.add_column("environment")
    returns.add_column("objective")
    for label in ("optimum", "worst", "random policy"):
        returns.add_column(label, justify="right")
    for env in ("train", "deploy"):
        for objective, name in (("base", "R (base)"), ("intended", "U (intended)")):
            returns.add_row(
                env,
                name,
                *(
                    f"{t.get(env, objective):.6g}"
                    for t in (analysis.optimum, analysis.worst, analysis.random)
                ),
            )

    sets = Table(title=f"normalised regret over each optimal set (ε = {tol.epsilon:g})")
    sets.add_column("optimal set")
    sets.add_column("quantity")
    sets.add_column("min … max", justify="right")
    sets.add_column(f"all ≤ τ = {tol.tau:g}?", justify="center")
    for name, ranges in analysis.optimal_sets.items():
        for quantity, r in ranges.items():
            verdict = (
                "yes"
                if r.max_bounds[1] <= tol.tau
                else ("no" if r.max_bounds[0] > tol.tau else "undetermined")
            )
            sets.add_row(SET_TITLES[name], QUANTITY_TITLES[quantity], _cell(r), verdict)

    shares = Text.assemble(
        ("outer alignment with infinite data (every π in Opt(λ, R) aligned) holds for λ ∈ ",),
        (analysis.outer_aligned_shares.notation(), "bold"),
    )
    parts: list = [returns, sets, shares]
    if analysis.undetermined_shares.intervals:
        parts.append(Text(f"undetermined for λ ∈ {analysis.undetermined_shares.notation()}"))
    if not analysis.shared_dynamics:
        parts.append(Text("the environments' dynamics differ on shared states", style="yellow"))
    return Group(*parts)


def _condition_text(name: str, c: Condition) -> str:
    mark = "✓" if c.holds else ("?" if c.holds is None else "✗")
    return f"{mark} {name}: {c.value:.3g} {c.comparison} {c.threshold:.3g}"


def verdict_table(analysis: Analysis, verdicts: dict[str, Verdict]) -> Group:
    """One row per lens: category, reason, and the conditions with their numbers."""
    r = analysis.regret
    header = Text(
        f"{analysis.policy} in {analysis.objectives.world}: regret train R {r.train_base:.3g}, "
        f"train U {r.train_intended:.3g}, deploy R {r.deploy_base:.3g}, "
        f"deploy U {r.deploy_intended:.3g}"
    )
    table = Table(title="verdicts under each definition", show_lines=True)
    table.add_column("lens")
    table.add_column("verdict")
    table.add_column("reason", ratio=3)
    table.add_column("conditions", ratio=2)
    for name, v in verdicts.items():
        conditions = "\n".join(_condition_text(k, c) for k, c in v.conditions.items())
        reason = v.reason + ("".join(f"\n• {f}" for f in v.flags) if v.flags else "")
        table.add_row(name, str(v.category), reason, conditions)
    return Group(header, table)


def level_pictures(world: World, policy: TabularPolicy) -> Group:
    """Every training level beside every deployment level, as text: walls █, floor ·,
    other tiles by their initials, and the policy's most likely path from each start S as
    arrows (the step taken from each cell), ending at ●. Styles only repeat the glyphs."""
    from alignlens.report.levels import levels_of, most_likely_path, tile_label

    grid = world.grid
    if grid is None:
        return Group()
    panels = {}
    for env in ("train", "deploy"):
        e, table = world.environment(env), policy.acting_in(env)
        for j in levels_of(world, env):
            tiles = grid.levels[j]
            cells = [[_tile_glyph(grid.tile_types[t]) for t in row] for row in tiles]
            for s in np.flatnonzero(e.start > 0):
                if world.base_state[s] < 0 or grid.level[world.base_state[s]] != j:
                    continue
                path = most_likely_path(world, table, env, int(s))
                for here in path[:-1]:
                    b = world.base_state[here]
                    step = STEP_GLYPHS.get(world.actions[int(np.argmax(table[here]))], "?")
                    cells[grid.row[b]][grid.col[b]] = (step, "bold yellow")
                b = world.base_state[path[-1]]
                if b >= 0:
                    cells[grid.row[b]][grid.col[b]] = ("●", "bold red")
                b = world.base_state[s]
                cells[grid.row[b]][grid.col[b]] = ("S", "bold cyan")
            text = Text()
            for r, row in enumerate(cells):
                for glyph, style in row:
                    text.append(glyph.ljust(2)[:2], style=style)
                if r + 1 < len(cells):
                    text.append("\n")
            title = f"{env}: {grid.level_names[j]}"
            panels[title] = Panel(text, title=title, expand=False)
    legend = ", ".join(
        f"{tile_label(t)} {t}" for t in grid.tile_types if t not in ("wall", "floor")
    )
    caption = Text(f"{policy.name}: S start, arrows the most likely path, ● its end; {legend}")
    return Group(Columns(list(panels.values())), caption)


def _tile_glyph(kind: str) -> tuple[str, str]:
    from alignlens.report.levels import tile_label

    if kind == "wall":
        return "██", "grey50"
    if kind == "floor":
        return "· ", "grey70"
    return tile_label(kind), "bold"
