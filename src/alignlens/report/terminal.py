"""Rich tables and pictures for the terminal, built from analysis records."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich import box
from rich.columns import Columns
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alignlens.analysis import Analysis, Range, WorldAnalysis
from alignlens.lenses import lens_registry
from alignlens.lenses.disagreement import Disagreement
from alignlens.lenses.registry import Registered
from alignlens.lenses.shares import SharePiece, pieces_notation
from alignlens.lenses.verdict import Category, Condition, Verdict
from alignlens.policies.tabular import TabularPolicy
from alignlens.report.levels import levels_of, most_likely_path, tile_label
from alignlens.tolerances import NEIGHBOURHOOD
from alignlens.world.model import World

if TYPE_CHECKING:
    from alignlens.sensitivity import Strip
    from alignlens.verdict_range import VerdictRange
    from alignlens.world.gym_certificate import Certificate

NORMALISER_MEANINGS = {
    "range": "normalised by the class's range V* − W (the default normaliser)",
    "random": "normalised by V* − J(uniform random policy) (the random normaliser)",
    "absolute": "normalised by a declared reward scale (the absolute normaliser)",
}
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

# Every table must read whole at 80 columns (a pipe, a CI log): wide words become short
# labels with a legend, and no column may hold a name that it would have to cut.
REGRET_MEANING = "regret: 0 = as good as the best policy in the class, 1 = as bad as the worst"
OBJECTIVES_MEANING = "R: the base objective, the one optimised; U: the intended one, what we want"
MARKS_MEANING = "✓ holds, ✗ fails, ? undetermined (its exact range straddles the threshold)"


def lens_labels() -> dict[str, str]:
    """Every lens's short column label, by name."""
    return {r.lens.name: r.lens.label for r in lens_registry()}


CATEGORY_LABELS: dict[Category, str] = {
    Category.ALIGNED: "A",
    Category.OUTER: "O",
    Category.INNER: "I",
    Category.ROBUSTNESS: "R",
    Category.OPTIMIZATION: "P",
    Category.HACKED: "H",
    Category.CAPABILITY_ROBUSTNESS: "CR",
    Category.OBJECTIVE_ROBUSTNESS: "OR",
}

# One sentence per category, in plain words, faithful to each lens (docs/lenses.md).
CATEGORY_MEANINGS: dict[Category, str] = {
    Category.ALIGNED: "the policy does what we want in deployment (its regret under U is at "
    "most τ), under every lens",
    Category.OUTER: "the objective is at fault: R rewards the bad behaviour, in training "
    "(wentworth, shah), with infinite data (hubinger, two_d), in deployment (ngo, "
    "wentworth_split), with no aligned optimum at all (shimi); or the policy is not even "
    "useful in training (shah_safety)",
    Category.INNER: "the learned policy, not the objective, is at fault: any failure that is not "
    "outer (hubinger, shah), a mesa-optimiser pursuing its own goal (ngo, two_d), a "
    "misaligned pick where an aligned optimum exists (shimi), useful in training but "
    "catastrophic in deployment (shah_safety)",
    Category.ROBUSTNESS: "not an alignment failure: R does not reward the bad behaviour and no "
    "mesa-optimiser chose it (ngo); optimal in training, not in deployment, where R "
    "rewards only aligned policies (wentworth_split); useful and not catastrophic "
    "(shah_safety)",
    Category.OPTIMIZATION: "(wentworth, wentworth_split) training stopped short of R's "
    "optimum: imperfect search, the essay's true inner alignment failure",
    Category.HACKED: "(wentworth, wentworth_split) not fully optimised, and an inner optimiser "
    "steered the search toward its own objective",
    Category.CAPABILITY_ROBUSTNESS: "(two_d) no mesa-optimiser, and competent at no goal other "
    "than R in deployment: its capabilities fail to generalise",
    Category.OBJECTIVE_ROBUSTNESS: "(two_d) competent in deployment, but at a goal other than R: "
    "its goal fails to generalise",
}
COMPARISONS = {"<=": "≤", ">=": "≥"}


def category_legend(categories: Iterable[str], *, labels: bool = False) -> Group:
    """One line (wrapped with a hanging indent) per category, in the order of `Category`:
    its name and what it means, after its short label when `labels`."""
    shown = {Category(c) for c in categories}
    rows = [
        (f"{CATEGORY_LABELS[c]:<2} {c}:" if labels else f"{c}:", CATEGORY_MEANINGS[c])
        for c in Category
        if c in shown
    ]
    return Group(Text("verdicts:"), Hanging(rows))


class Hanging:
    """Lines "HEAD text", each wrapped at the width it is given (between words only, never
    inside one) with a hanging indent, HEAD in bold."""

    def __init__(self, rows: Sequence[tuple[str, str]], indent: int = 4) -> None:
        self.rows, self.indent = list(rows), indent

    def __rich_console__(self, console: Any, options: Any) -> Any:
        import textwrap

        for head, body in self.rows:
            lines = textwrap.wrap(
                f"{head} {body}",
                width=options.max_width,
                subsequent_indent=" " * self.indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
            text = Text("\n".join(lines))
            text.stylize("bold", 0, len(head))
            yield text


def lens_legend(*, mark: bool = False) -> Text:
    """What the short lens labels stand for (and the mark of an unexpected verdict)."""
    text = "lenses: " + ", ".join(f"{short} {name}" for name, short in lens_labels().items())
    if mark:
        text += "\n! after a verdict: not the scenario's expected one (alignlens scenarios)"
    return Text(text)


def _cell(r: Range) -> str:
    text = f"{r.min:.4g} to {r.max:.4g}"
    if not r.exact:
        lo, hi = r.bounds
        text += f"\n(bounds {lo:.4g} to {hi:.4g})"
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

    sets = Table(
        title=f"normalised regret over each optimal set (ε = {tol.epsilon:g}, τ = {tol.tau:g})"
    )
    sets.add_column("optimal set")
    sets.add_column("quantity")
    sets.add_column("min to max", justify="right")
    sets.add_column("all ≤ τ?", justify="center")
    for name, ranges in analysis.optimal_sets.items():
        for quantity, r in ranges.items():
            verdict = (
                "yes"
                if r.max_bounds[1] <= tol.tau
                else ("no" if r.max_bounds[0] > tol.tau else "undetermined")
            )
            sets.add_row(SET_TITLES[name], QUANTITY_TITLES[quantity], _cell(r), verdict)

    shares = Text.assemble(
        ("outer alignment with infinite data (every π in Opt(λ, R) aligned) holds for\nλ ∈ ",),
        (analysis.outer_aligned_shares.notation(), "bold"),
    )
    meanings = Text(
        "return: the expected discounted reward, its optimum and worst over the class\n"
        f"{OBJECTIVES_MEANING}\n"
        "Opt(e, R): the policies optimal for R in environment e\n"
        "all ≤ τ?: whether every policy of the set has that regret at most τ\n"
        "λ: the share of the lifetime spent in deployment\n"
        f"{REGRET_MEANING}"
    )
    parts: list = [returns, sets, shares]
    if analysis.undetermined_shares.intervals:
        parts.append(Text(f"undetermined for λ ∈ {analysis.undetermined_shares.notation()}"))
    if not analysis.shared_dynamics:
        parts.append(Text("the environments' dynamics differ on shared states", style="yellow"))
    return Group(*parts, meanings)


def _conditions_grid(conditions: dict[str, Condition]) -> Table:
    """One condition a line: its mark, its whole name, its value against the threshold."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True, min_width=max(map(len, conditions), default=1))
    grid.add_column()
    for name, c in conditions.items():
        mark = "✓" if c.holds else ("?" if c.holds is None else "✗")
        comparison = COMPARISONS.get(c.comparison, c.comparison)
        value = "undefined" if math.isnan(c.value) else f"{c.value:.3g}"
        grid.add_row(mark, name, f"{value} {comparison} {c.threshold:.3g}")
    return grid


def regret_table(analysis: Analysis) -> Group:
    """The learned policy's four regrets, with what a regret and the two objectives are."""
    r, o = analysis.regret, analysis.objectives
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("regret (V* − J)")
    table.add_column("in training", justify="right")
    table.add_column("in deployment", justify="right")
    for objective, label in (("base", "under R (base)"), ("intended", "under U (intended)")):
        cells = [
            f"{r.get(env, objective):.3g} "
            f"({o.optimum.get(env, objective) - analysis.returns.get(env, objective):.3g})"
            for env in ("train", "deploy")
        ]
        table.add_row(label, *cells)
    title = Text(f"{analysis.policy} in {analysis.objectives.world}", style="bold")
    normaliser = NORMALISER_MEANINGS[o.tolerances.normaliser]
    meaning = f"{REGRET_MEANING}; in brackets V* − J itself\n{normaliser}\n{OBJECTIVES_MEANING}"
    return Group(title, table, Text(meaning))


def disagreement_lines(disagreements: Sequence[Disagreement], *, explained: bool) -> Group:
    """Why the lenses disagree: each pair and its explanation when ``explained``, else
    one line counting the pairs and naming the option that explains them."""
    if not disagreements:
        return Group()
    if not explained:
        return Group(
            Text(
                f"{len(disagreements)} pairs of lenses disagree; --why says what separates "
                "each pair here"
            )
        )
    rows = [(f"{d.lenses[0]} / {d.lenses[1]}:", d.explanation) for d in disagreements]
    return Group(Text("why the lenses disagree:", style="bold"), Hanging(rows))


def verdict_table(
    analysis: Analysis,
    verdicts: dict[str, Verdict],
    by_share: Mapping[str, Sequence[SharePiece]] | None = None,
    over_optimal: VerdictRange | None = None,
) -> Group:
    """The regrets, then one row per lens: its verdict, the reason, the verdict as a
    function of λ where it changes with λ (``by_share``), its verdicts over every member
    of Opt(train, R) (``over_optimal``), and the conditions with their numbers; then what
    each verdict shown means. Reads whole at 80 columns."""
    table = Table(title="verdicts under each definition", show_lines=True)
    longest = max((len(str(v.category)) for v in verdicts.values()), default=7)
    table.add_column("lens: verdict", no_wrap=True, min_width=max(longest, 9))
    table.add_column("why, and the conditions behind it")
    for name, v in verdicts.items():
        pieces = (by_share or {}).get(name, ())
        flags = [*v.flags, *([f"by λ: {pieces_notation(pieces)}"] if len(pieces) > 1 else [])]
        if over_optimal is not None:
            flags.append(f"over Opt(train, R): {over_optimal.notation(name)}")
        why = Text(v.reason + "".join(f"\n• {f}" for f in flags))
        table.add_row(
            Text.assemble((name, "bold"), "\n", str(v.category)),
            Group(why, _conditions_grid(dict(v.conditions))),
        )
    tol = analysis.tolerances
    thresholds = Text(
        f"{MARKS_MEANING}\nthresholds: ε = {tol.epsilon:g} (fully optimised), τ = {tol.tau:g} "
        f"(aligned), κ = {tol.kappa:g} (competent), χ = {tol.catastrophe:g} (catastrophic)"
    )
    legend = category_legend(str(v.category) for v in verdicts.values())
    parts: list[Any] = [regret_table(analysis)]
    if over_optimal is not None:
        parts.append(Text(f"the policy diagnosed: {over_optimal.rule}"))
    return Group(*parts, table, thresholds, legend)


def certificate_table(certificate: Certificate) -> Group:
    """Each exact return beside the mean of the rollouts, its standard error and z-score."""
    table = Table(
        title=f"exact returns against {certificate.episodes} rollouts of each environment "
        f"(seed {certificate.seed})"
    )
    for column in ("environment", "objective", "exact", "rollouts", "z"):
        table.add_column(
            column, justify="left" if column in ("environment", "objective") else "right"
        )
    for r in certificate.rows:
        table.add_row(
            r.environment,
            "R" if r.objective == "base" else "U",
            f"{r.exact:.6g}",
            f"{r.mean:.6g} ± {r.standard_error:.2g}",
            f"{r.z:+.2f}",
        )
    cut = {r.steps for r in certificate.rows if r.steps is not None}
    notes = [
        f"agreement within {certificate.threshold:g} standard errors: the world and the "
        "environments give this policy the same returns, as far as rollouts can tell"
        if certificate.passed
        else f"beyond {certificate.threshold:g} standard errors"
    ]
    if cut:
        expected = ", ".join(f"{r.expected:.6g}" for r in certificate.rows)
        notes.append(
            f"without a horizon, rollouts stop after {cut.pop()} steps; z compares them with "
            f"the exact return of those steps ({expected})"
        )
    return Group(table, Text("\n".join(notes)))


def tour_table(title: str, rows: Sequence[Any], *, mark: bool = True, legend: bool = True) -> Group:
    """Scenario × lens: each scenario run's verdict under every lens as a short label, with
    ! after one that differs from the scenario's expected row when `mark`; then the legend
    of the labels in plain words when `legend`. Reads whole at 80 columns."""
    table = Table(title=title)
    table.add_column("scenario; optimiser", no_wrap=True)
    labels = lens_labels()
    for label in labels.values():
        table.add_column(label, justify="center", no_wrap=True)
    for r in rows:
        cells = []
        for lens, verdict in r.diagnosis.verdicts.items():
            expected = r.scenario.expected.get(lens)
            differs = mark and expected is not None and str(verdict.category) != expected
            cells.append(CATEGORY_LABELS[Category(verdict.category)] + ("!" if differs else ""))
        name = Text.assemble((r.scenario.id, "bold"), "\n", (r.optimizer, "dim"))
        table.add_row(name, *cells)
    if not legend:
        return Group(table)
    return Group(table, lens_legend(mark=mark), category_legend(Category, labels=True))


def optimal_set_lines(rows: Sequence[Any]) -> Group:
    """For each exhaustive run, Wentworth's verdicts over every member of Opt(train, R): the
    set the essay's claim quantifies over (every lens's are in `alignlens run ID`)."""
    lines = [
        Text.assemble(
            (f"{r.scenario.id}: ", "bold"), r.diagnosis.over_optimal.notation("wentworth")
        )
        for r in rows
        if r.diagnosis.over_optimal is not None
    ]
    if not lines:
        return Group()
    title = Text(
        "wentworth over every member of Opt(train, R) (the run shows the one worst in "
        "deployment under U):",
        style="bold",
    )
    return Group(title, *lines)


def lenses_table(entries: Sequence[Registered]) -> Group:
    """Every lens: its name and label, then its title, the line it formalises, its rule
    and its source (and the package that registers it, for a lens not built in). Reads
    whole at 80 columns."""
    table = Table(title="lenses: the definitions every verdict is given under", show_lines=True)
    table.add_column("lens", no_wrap=True)
    table.add_column("what it formalises")
    for entry in entries:
        lens, card = entry.lens, entry.lens.card
        text = Text.assemble(
            (card.title, "bold"),
            "\n“",
            (card.quote, "italic"),
            "”\n",
            card.rule,
            "\n",
            (card.source, "dim"),
        )
        if not entry.built_in:
            text.append(f"\nregistered by {entry.origin}", style="dim")
        table.add_row(Text.assemble((lens.name, "bold"), "\n", lens.label), text)
    note = Text(
        "bad: reg^deploy_U(π̂) > τ, the policy does not do what we want in deployment; "
        "every lens says aligned otherwise. The second line of each lens is its column label."
    )
    return Group(table, note)


def scenarios_table(entries: Sequence[Any]) -> Group:
    """Every scenario: its id, its card, optimisers and parameters, and the verdict each lens
    is expected to give, as short labels with their legend. Reads whole at 80 columns."""
    table = Table(title="scenarios (alignlens run ID): the expected verdicts", show_lines=True)
    table.add_column("id; optimisers,\nown first;\nparameters", no_wrap=True)
    table.add_column("case")
    labels = lens_labels()
    for label in labels.values():
        table.add_column(label, justify="center", no_wrap=True)
    for s in entries:
        name = Text.assemble((s.id, "bold"), "\n", ("\n".join(s.optimizers), "dim"))
        for key, default in s.parameters.items():
            name.append(f"\n{key}={default:g}", "italic")
        expected = (s.expected.get(lens) for lens in labels)
        table.add_row(
            name, s.title, *(CATEGORY_LABELS[Category(e)] if e else "·" for e in expected)
        )
    return Group(table, lens_legend(), category_legend(Category, labels=True))


def level_pictures(world: World, policy: TabularPolicy) -> Group:
    """Every training level beside every deployment level, as text: walls █, floor ·,
    other tiles by their initials, and the policy's most likely path from each start S as
    arrows (the step taken from each cell), ending at ●. Styles only repeat the glyphs."""
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
    caption = Text(f"{policy.name}: S start, arrows the most likely path, ● its end\n{legend}")
    return Group(Columns(list(panels.values())), caption)


def _tile_glyph(kind: str) -> tuple[str, str]:
    if kind == "wall":
        return "██", "grey50"
    if kind == "floor":
        return "· ", "grey70"
    return tile_label(kind), "bold"


def sensitivity_tables(strips: Mapping[str, Strip]) -> Group:
    """For each parameter, every lens's verdict as a function of it, the default first
    (exact, or scanned), and the lenses whose verdict flips within a factor of 2 of it."""

    out = []
    for strip in strips.values():
        how = "exact pieces" if strip.exact else "scanned, changes located to about 1%"
        table = Table(title=f"{strip.symbol} (default {strip.default:g}; {how})")
        table.add_column("lens", no_wrap=True)
        table.add_column(f"verdict as a function of {strip.symbol}")
        for lens in strip.pieces:
            table.add_row(lens, strip.notation(lens))
        fragile = [lens for lens, flips in strip.flips_near_default().items() if flips]
        factor = f"{NEIGHBOURHOOD:g}"
        note = (
            f"flips within a factor of {factor} of the default: {', '.join(fragile)}"
            if fragile
            else f"no verdict flips within a factor of {factor} of the default"
        )
        out += [table, Text(note)]
    return Group(*out)


def examples_table(paths: Sequence[Path], summaries: Sequence[str]) -> Table:
    """The example world files, each with what it shows."""
    table = Table(title="example worlds (examples/FILE)")
    table.add_column("file", no_wrap=True, min_width=max(len(p.name) for p in paths))
    table.add_column("what it shows", overflow="fold")
    for path, summary in zip(paths, summaries, strict=True):
        table.add_row(path.name, summary)
    return table
