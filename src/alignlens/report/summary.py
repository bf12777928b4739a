"""A sweep's summary document shown: rows of tables for the terminal and the HTML report,
and the terminal's tables themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from alignlens.report.terminal import category_legend

CLAIMS = {
    "1": "outer_W and full_opt ⇒ aligned",
    "2": "outer_W′, robust_W and full_opt ⇒ aligned",
    "3": "bad and outer_W ⇒ not full_opt",
    "4": "outer_H depends on λ (a count, not a law)",
}
"""Each claim a sweep checks, in words."""


def fragile_rows(document: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Per lens, the share of worlds whose verdict flips within a factor of 2 of τ, of κ's
    shortfall 1 − κ, and of χ."""
    worlds = max(1, document["worlds"])
    fragile = document.get("fragile", {})
    return [
        (
            lens,
            *(
                f"{fragile.get(t, {}).get(lens, 0) / worlds:.1%}"
                for t in ("tau", "kappa", "catastrophe")
            ),
        )
        for lens in document["verdicts"]
    ]


FRAGILE_TITLE = "verdicts that flip within a factor of 2 of a threshold (share of worlds)"


def sweep_tables(document: Mapping[str, Any], optimizer: str) -> Group:
    """A sweep's summary: the claims, the verdicts per lens, where two lenses disagree, and
    the verdicts that flip near a threshold."""
    claims = Table(title=f"claims over {document['worlds']} worlds ({optimizer})")
    claims.add_column("claim")
    claims.add_column("says")
    claims.add_column("checked", justify="right")
    claims.add_column("violations / λ-dependent", justify="right")
    for claim, counts in document["claims"].items():
        other = counts.get("violations", counts.get("lambda_dependent"))
        claims.add_row(claim, CLAIMS.get(claim, ""), str(counts["checked"]), str(other))
    note = "checked: worlds where the premise holds; violations: where the conclusion fails"
    verdicts = Table(title="verdicts per lens")
    verdicts.add_column("lens")
    verdicts.add_column("categories")
    for lens, counts in document["verdicts"].items():
        verdicts.add_row(lens, ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    disagreement = Table(title="where two lenses disagree (X's category / Y's category)")
    disagreement.add_column("lenses X/Y")
    disagreement.add_column("counts")
    for pair, counts in document["disagreement"].items():
        disagreement.add_row(pair, ", ".join(f"{k} {v}" for k, v in counts.items()) or "—")
    fragile = Table(title=FRAGILE_TITLE)
    for head in ("lens", "τ", "κ (1 − κ)", "χ"):
        fragile.add_column(head, justify="left" if head == "lens" else "right")
    for row in fragile_rows(document):
        fragile.add_row(*row)
    seen = {c for counts in document["verdicts"].values() for c in counts}
    return Group(claims, Text(note), verdicts, disagreement, fragile, category_legend(seen))


def violation_lines(document: Mapping[str, Any], optimizer: str) -> Group:
    """Each world that violates a claim, with how to reproduce it."""
    return Group(
        *(
            Text.assemble(
                (f"claim {v['claim']} violated", "red"),
                f" by world {v['world_seed']} ({optimizer}): reproduce with "
                f"random_world(WorldSpec(**{v['spec']}), {v['world_seed']})",
            )
            for v in document["violating_worlds"]
        )
    )
