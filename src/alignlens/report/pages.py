"""Reports assembled from what alignlens computes: one diagnosis, a scenario run, the tour
of every scenario, or a sweep store.

Every figure gets alt text that states what it shows in numbers, and every verdict is
written out (colour only repeats the category), so the page reads without colour or
images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from alignlens.demons.meiotic_drive import DriveRun
from alignlens.demons.tessellating_hills import HillsRuns
from alignlens.lenses.shares import inner_shares, pieces_notation
from alignlens.progress import report
from alignlens.report.figures import (
    disagreement_figure,
    drive_figure,
    gridworld_figure,
    hills_figure,
    sensitivity_figure,
    share_figure,
    trace_figure,
    verdicts_figure,
)
from alignlens.report.html import (
    Report,
    Section,
    disagreement_list,
    figure,
    lens_rows_table,
    table,
    verdict_table,
)
from alignlens.report.levels import most_likely_path
from alignlens.report.summary import FRAGILE_TITLE, fragile_rows

if TYPE_CHECKING:
    from markupsafe import Markup

    from alignlens.analysis import Envelope, WorldAnalysis
    from alignlens.diagnosis import Diagnosis, Evidence
    from alignlens.scenarios.scenario import ScenarioRun
    from alignlens.sensitivity import Strip

ENVIRONMENTS = ("train", "deploy")
OBJECTIVES = {"base": "R (base)", "intended": "U (intended)"}


def diagnosis_report(diagnosis: Diagnosis, title: str | None = None) -> Report:
    """One diagnosis: the verdicts, the numbers, and the figures its evidence allows."""
    a = diagnosis.analysis
    name = title or f"{a.policy} in {a.objectives.world}"
    return Report(name, diagnosis_sections(diagnosis))


def sensitivity_report(diagnosis: Diagnosis, strips: Mapping[str, Strip]) -> Report:
    """Where each verdict flips: one figure of strips per parameter (one strip per lens,
    the default marked), each with the pieces written out, then the diagnosis."""

    a = diagnosis.analysis
    sections = []
    for strip in strips.values():
        rows = [(lens, strip.notation(lens)) for lens in strip.pieces]
        how = "exact" if strip.exact else "scanned, changes located to about 1%"
        sections.append(
            Section(
                f"Verdicts as a function of {strip.symbol}",
                paragraphs=[f"Default {strip.symbol} = {strip.default:g}; {how}."],
                blocks=[
                    figure(
                        sensitivity_figure(strip),
                        f"Every lens's category along {strip.symbol}.",
                        f"Every lens's verdict as a function of {strip.symbol}; dashed: the "
                        "default.",
                    ),
                    table(f"pieces along {strip.symbol}", ["lens", "verdict"], rows),
                ],
            )
        )
    title = f"where the verdicts flip: {a.policy} in {a.objectives.world}"
    return Report(title, [*sections, *diagnosis_sections(diagnosis, figures=False)])


def scenario_report(run: ScenarioRun) -> Report:
    """One scenario run: its card, then the diagnosis of what its optimiser learned."""
    s = run.scenario
    verdicts = verdict_table(
        f"{s.id} ({run.optimizer}, seed {run.seed}): the verdict of every lens",
        ["scenario", "optimiser"],
        [((s.id, run.optimizer), run.diagnosis.verdicts, s.expected)],
    )
    card = Section("The case", blocks=_card_blocks(s.card))
    sections = diagnosis_sections(run.diagnosis, verdicts=verdicts)
    return Report(f"{s.id}: {s.title}", [card, *sections])


def tour_section(run: ScenarioRun) -> Section:
    """One scenario's section of the tour's report: its figures and its numbers."""
    section = Section(f"{run.scenario.id}: {run.scenario.title}", _evidence_blocks(run.diagnosis))
    section.paragraphs.append(_numbers_sentence(run.diagnosis))
    return section


def tour_report(
    runs: Sequence[ScenarioRun],
    perfect: Sequence[ScenarioRun] = (),
    sections: Mapping[str, Section] | None = None,
) -> Report:
    """Every scenario: the verdict table (scenario × lens), the same worlds under the
    exhaustive optimiser, then each scenario's figures (`tour_section`; ``sections`` may
    hold some already drawn, by scenario id, e.g. while other scenarios still ran)."""
    drawn = dict(sections or {})
    main = verdict_table(
        "the essay's cases: the verdict of every lens (open a cell for its reason and "
        "conditions; a verdict that differs from the scenario's expected row says what was "
        "expected)",
        ["scenario", "optimiser"],
        [((r.scenario.id, r.optimizer), r.diagnosis.verdicts, r.scenario.expected) for r in runs],
    )
    overview = Section("Verdicts", blocks=[main])
    if perfect:
        overview.blocks.append(
            verdict_table(
                "the same worlds under the exhaustive (perfect) optimiser",
                ["scenario", "optimiser"],
                [((r.scenario.id, r.optimizer), r.diagnosis.verdicts, None) for r in perfect],
            )
        )
    ranges = _over_optimal_table(
        [(f"{r.scenario.id} ({r.optimizer})", r.diagnosis) for r in perfect]
    )
    if ranges is not None:
        overview.blocks.append(ranges)
    parts = [overview]
    for i, r in enumerate(runs):
        report("drawing the figures", i, len(runs))
        parts.append(drawn.get(r.scenario.id) or tour_section(r))
    return Report(
        "alignlens tour: the essay's cases under five definitions",
        parts,
        intro="Each case of the essay and its thread, trained by its own optimiser and "
        "diagnosed exactly; each lens is one definition of inner and outer alignment.",
    )


def store_report(by_optimizer: Mapping[str, tuple[Sequence[Mapping[str, Any]], Any]]) -> Report:
    """A sweep store: for each optimiser whose rows it holds, on its own, the claims (with
    any violating world), verdicts per lens and where lenses disagree. ``by_optimizer``
    maps each optimiser to its rows and their summary."""
    sections = [
        section
        for optimizer, (rows, summary) in by_optimizer.items()
        for section in _store_sections(optimizer, rows, summary)
    ]
    worlds = ", ".join(f"{s['worlds']} ({name})" for name, (_, s) in by_optimizer.items())
    return Report(f"sweep of {worlds or 'no'} worlds", sections)


def _store_sections(
    optimizer: str, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]
) -> list[Section]:

    claims = summary["claims"]
    claim_rows = [
        (f"claim {c}", claims[c]["checked"], claims[c]["violations"]) for c in ("1", "2", "3")
    ]
    claim_rows.append(("claim 4", claims["4"]["checked"], claims["4"]["lambda_dependent"]))
    claims_section = Section(
        f"Claims: {optimizer}",
        paragraphs=[
            "Claims 1–3 (1: outer_W ∧ full_opt ⇒ aligned; 2: outer_W′ ∧ robust_W ∧ full_opt "
            "⇒ aligned; 3: bad ∧ outer_W ⇒ ¬full_opt) are theorems: a violation is a bug. "
            "Claim 4 counts the "
            "worlds where outer alignment in the infinite-data sense depends on λ."
        ],
        blocks=[
            table(
                f"claims over {summary['worlds']} worlds",
                ["claim", "checked", "violations (claim 4: λ-dependent)"],
                claim_rows,
            )
        ],
    )
    violating = [
        (r["world_seed"], r["optimizer"], c, _spec_call(r["spec"], r["world_seed"]))
        for r in rows
        for c in ("1", "2", "3")
        if r[f"claim{c}_violated"]
    ]
    if violating:
        claims_section.blocks.append(
            table(
                "worlds that violate a claim",
                ["seed", "optimiser", "claim", "reproduce"],
                violating,
            )
        )
    else:
        claims_section.paragraphs.append("No world violates claims 1–3.")
    verdicts = summary["verdicts"]
    described = "; ".join(
        f"{lens}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        for lens, counts in verdicts.items()
    )
    distribution = Section(
        f"Verdicts per lens: {optimizer}",
        blocks=[
            figure(verdicts_figure(verdicts), f"Worlds per category. {described}.", described),
        ],
    )
    pairs = [
        (pair, ", ".join(f"{k} {v}" for k, v in counts.items()) or "—")
        for pair, counts in summary["disagreement"].items()
    ]
    disagreement = Section(
        f"Where lenses disagree: {optimizer}",
        blocks=[
            figure(
                disagreement_figure(summary),
                "A lens-by-lens matrix of the share of worlds whose two categories differ; "
                "the table below gives the counts by category pair.",
                "Share of worlds where two lenses give different categories.",
            ),
            table("category pairs where two lenses differ", ["lenses X/Y", "counts"], pairs),
            table(FRAGILE_TITLE, ["lens", "τ", "κ (1 − κ)", "χ"], fragile_rows(summary)),
        ],
    )
    return [claims_section, distribution, disagreement]


def diagnosis_html(diagnosis: Diagnosis) -> str:
    """A diagnosis as a notebook shows it: the verdict table of the HTML report (one row
    per lens; each cell opens to its reason and conditions) and the numbers behind it."""
    verdicts, numbers = diagnosis_sections(diagnosis, figures=False)
    return Report(diagnosis.analysis.policy, [verdicts, numbers])._repr_html_()


def diagnosis_sections(
    diagnosis: Diagnosis, verdicts: Markup | None = None, *, figures: bool = True
) -> list[Section]:
    """The verdicts (one row per lens unless a table is given), the numbers, and (unless
    ``figures`` is False) the figures."""
    a = diagnosis.analysis
    table_block = verdicts or lens_rows_table(
        f"{a.policy} in {a.objectives.world}: the verdict of every lens", diagnosis.verdicts
    )
    sections = [
        Section("Verdicts", paragraphs=[_numbers_sentence(diagnosis)], blocks=[table_block]),
        Section("Numbers", blocks=_number_tables(diagnosis)),
    ]
    ranges = _over_optimal_table([(a.policy, diagnosis)])
    if ranges is not None:
        sections[0].blocks.append(ranges)
    disagreements = diagnosis.disagreements()
    if disagreements:
        sections[0].blocks.append(disagreement_list(disagreements))
    blocks = _evidence_blocks(diagnosis) if figures else []
    if blocks:
        sections.append(Section("Figures", blocks=blocks))
    return sections


def _number_tables(diagnosis: Diagnosis) -> list[Markup]:
    a, o = diagnosis.analysis, diagnosis.analysis.objectives
    returns = [
        (
            f"{env}, {label}",
            *(
                f"{t.get(env, objective):.6g}"
                for t in (a.returns, o.optimum, o.worst, o.random, a.regret)
            ),
            f"{o.optimum.get(env, objective) - a.returns.get(env, objective):.6g}",
        )
        for env in ENVIRONMENTS
        for objective, label in OBJECTIVES.items()
    ]
    sets = [
        (
            name,
            quantity.replace("_", " "),
            f"{r.min:.4g}",
            f"{r.max:.4g}",
            "yes" if r.exact else "no",
        )
        for name, ranges in o.optimal_sets.items()
        for quantity, r in ranges.items()
    ]
    share = o.tolerances.deploy_share
    regret = a.mixture_regret()
    mixture = [
        ("the policy's return of R", f"{a.mixture_return():.6g}"),
        ("the best over the class", _bracket(o.mixture_extremes.best, share)),
        ("the worst over the class", _bracket(o.mixture_extremes.worst, share)),
        ("the policy's regret (inner_H: ≤ ε)", _bracket_range(regret.bounds)),
        ("λ for which it is ≤ ε", inner_shares(a).notation()),
        *(
            (f"{lens}'s verdict by λ", pieces_notation(pieces))
            for lens, pieces in diagnosis.by_share().items()
            if len(pieces) > 1
        ),
    ]
    return [
        table(
            f"returns over the {o.policy_class} class; the policy's regret V* − J, normalised "
            f"by the {o.tolerances.normaliser} normaliser and as it is",
            [
                "environment, objective",
                "policy",
                "optimum",
                "worst",
                "random",
                "policy's regret",
                "absolute regret",
            ],
            returns,
        ),
        table(
            f"normalised regret over each optimal set (ε = {o.tolerances.epsilon:g}); "
            f"outer alignment with infinite data holds for λ ∈ "
            f"{o.outer_aligned_shares.notation()}",
            ["optimal set", "quantity", "min", "max", "exact"],
            sets,
        ),
        table(
            f"the lifetime mixture (1 − λ)·training + λ·deployment at λ = {share:g}, "
            "where Hubinger's lens reads both of its conditions",
            ["quantity", "value"],
            mixture,
        ),
    ]


def _over_optimal_table(rows: Sequence[tuple[str, Diagnosis]]) -> Markup | None:
    """Every lens's verdicts over every member of Opt(train, R), one row per exhaustive run
    (None when there is none)."""
    found = [(label, d.over_optimal) for label, d in rows if d.over_optimal is not None]
    if not found:
        return None
    lenses = list(found[0][1].counts)
    rules = sorted({over.rule for _, over in found})
    picked = rules[0] if len(rules) == 1 else "the member its rule picks"
    return table(
        "every lens's verdicts over every member of Opt(train, R), the set the essay's claim "
        f"quantifies over; each run diagnoses {picked}",
        ["run", *lenses],
        [(label, *(over.notation(lens) for lens in lenses)) for label, over in found],
    )


def _bracket(envelopes: tuple[Envelope, Envelope], share: float) -> str:
    return _bracket_range((envelopes[0](share), envelopes[1](share)))


def _bracket_range(bounds: tuple[float, float]) -> str:
    low, high = bounds
    return f"{low:.6g}" if low == high else f"between {low:.6g} and {high:.6g}"


def _evidence_blocks(diagnosis: Diagnosis) -> list[Markup]:
    """The figures a diagnosis's evidence allows: levels with paths, the training trace,
    the λ profile, and a demon's run against its counterfactual."""

    blocks = []
    evidence = diagnosis.evidence
    objectives = diagnosis.analysis.objectives
    if evidence is not None and evidence.world.grid is not None:
        blocks.append(
            figure(
                gridworld_figure(evidence.world, evidence.policy),
                _paths_alt(evidence),
                "Training levels (left) and deployment levels (right): the policy's most "
                "likely action in each cell (grey arrows) and its most likely path from each "
                "start S to ● (a path that ends at S means the agent stays put). Tiles are "
                "labelled by the initials of their type.",
            )
        )
    if evidence is not None and evidence.trace is not None:
        blocks.append(
            figure(
                trace_figure(evidence.trace),
                _trace_alt(evidence),
                "Exact returns of the policy being trained, under R (solid), U (dashed) and "
                "each candidate goal (dotted), in training and in deployment, per step or "
                "generation.",
            )
        )
    if objectives.share_profile is not None:
        blocks.append(
            figure(
                share_figure(objectives),
                _share_alt(objectives),
                "The worst deployment regret under U over Opt(λ, R) against λ: dots at the "
                "vertices, lines between them; outer alignment (every optimum aligned) holds "
                f"where it is at most τ, shaded: λ ∈ {objectives.outer_aligned_shares.notation()}.",
            )
        )
    demon = evidence.demon if evidence is not None else None
    if isinstance(demon, DriveRun):
        title = "meiotic drive against its counterfactuals"
        blocks.append(figure(drive_figure(demon), title, title))
    elif isinstance(demon, HillsRuns):
        title = "the demon against its channel removed"
        blocks.append(figure(hills_figure(demon), title, title))
    return blocks


def _numbers_sentence(diagnosis: Diagnosis) -> str:
    a = diagnosis.analysis
    r = a.regret
    return (
        f"{a.policy} ({a.optimizer}) in {a.objectives.world}: normalised regret in training "
        f"{r.train_base:.3g} under R and {r.train_intended:.3g} under U; in deployment "
        f"{r.deploy_base:.3g} under R and {r.deploy_intended:.3g} under U."
    )


def _paths_alt(evidence: Evidence) -> str:
    """Where each most likely path ends, per environment, in words."""

    world, grid = evidence.world, evidence.world.grid
    parts = []
    for env in ENVIRONMENTS:
        e = world.environment(env)
        for s in np.flatnonzero(e.start > 0):
            path = most_likely_path(world, evidence.policy.acting_in(env), env, int(s))
            last = world.base_state[path[-1]]
            if last < 0:
                continue
            tile = grid.tile_types[grid.levels[grid.level[last]][grid.row[last], grid.col[last]]]
            parts.append(
                f"in {env} level {grid.level_names[grid.level[last]]}, the path from "
                f"({grid.row[world.base_state[s]]}, {grid.col[world.base_state[s]]}) takes "
                f"{len(path) - 1} steps and ends on {tile} at ({grid.row[last]}, {grid.col[last]})"
            )
    return f"Levels of {world.name} with the most likely paths of {evidence.policy.name}: " + (
        "; ".join(parts) + "."
    )


def _trace_alt(evidence: Evidence) -> str:
    trace = evidence.trace
    ends = ", ".join(
        f"{key.replace('_', ' ')} from {values[0]:.3g} to {values[-1]:.3g}"
        for key, values in trace.returns.items()
    )
    return f"Exact returns over {trace.step[-1]} steps or generations: {ends}."


def _share_alt(objectives: WorldAnalysis) -> str:
    p = objectives.share_profile
    pieces = []
    for j, vertex in enumerate(p.vertices):
        pieces.append(f"{p.at_vertices[j].max:.3g} at λ = {vertex:g}")
        if j < len(p.on_segments):
            pieces.append(f"{p.on_segments[j].max:.3g} on ({vertex:g}, {p.vertices[j + 1]:g})")
    return (
        f"Worst deployment regret under U over Opt(λ, R): {', '.join(pieces)}; "
        f"τ = {objectives.tolerances.tau:g}; outer alignment holds for λ ∈ "
        f"{objectives.outer_aligned_shares.notation()}."
    )


def _card_blocks(text: str) -> list[Markup]:
    """A scenario card as HTML: paragraphs, and its "- " items as lists (the Markdown
    emphasis dropped)."""
    from markupsafe import Markup

    blocks = []
    for paragraph in text.strip().split("\n\n"):
        lines = [" ".join(line.split()) for line in paragraph.replace("**", "").splitlines()]
        items: list[str] = []
        lead: list[str] = []
        for line in lines:
            if line.startswith("- "):
                items.append(line[2:])
            elif items:
                items[-1] += " " + line  # an item's continuation line
            else:
                lead.append(line)
        if lead:
            blocks.append(Markup("<p>{}</p>").format(" ".join(lead)))
        if items:
            entries = Markup("").join(Markup("<li>{}</li>").format(i) for i in items)
            blocks.append(Markup("<ul>{}</ul>").format(entries))
    return blocks


def _spec_call(spec: Mapping[str, Any], seed: int) -> str:
    return f"random_world(WorldSpec(**{dict(spec)}), {seed})"
