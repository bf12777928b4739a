"""A sweep's summary document as rows of tables, for the terminal and the HTML report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
