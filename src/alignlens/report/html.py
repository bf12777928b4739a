"""HTML reports: one self-contained page, figures inlined as SVG (no network needed to view
it), rendered with Jinja2 from the templates in ``templates/``. The same templates render
notebook output: `Report._repr_html_` and `Diagnosis._repr_html_`.

A `Report` is a title and sections; a section is paragraphs and rendered blocks (verdict
tables, plain tables, figures). The builders in `alignlens.report.pages` assemble reports
from diagnoses, scenario runs and sweep stores.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlens import __version__
from alignlens.atomic import check_writable, write_text_atomically
from alignlens.report.figures import svg_of

if TYPE_CHECKING:
    from markupsafe import Markup
    from matplotlib.figure import Figure

    from alignlens.lenses.disagreement import Disagreement
    from alignlens.lenses.verdict import Verdict


@dataclass
class Section:
    """A titled part of a report: paragraphs of text, then rendered blocks."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    blocks: list[Markup] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "section"


@dataclass
class Report:
    """A report page: `html` for a file, `save` to write one, and inline display in a
    notebook (`_repr_html_`)."""

    title: str
    sections: list[Section]
    intro: str = ""

    def html(self) -> str:
        """The whole page, self-contained."""

        return _template("page.html.j2").render(report=self, version=__version__)

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (atomically: a failed write leaves no partial file;
        permissions as for any new file, 0o666 less the umask)."""
        out = Path(path)
        check_writable(out, "path")
        return write_text_atomically(out, self.html())

    def _repr_html_(self) -> str:
        style = _template("style.css").render()
        body = _template("body.html.j2").render(report=self)
        return f"<div class='alignlens-report'><style>{style}</style>{body}</div>"


@functools.cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("alignlens.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _template(name: str):
    return _environment().get_template(name)


def _markup(text: str) -> Markup:
    from markupsafe import Markup

    return Markup(text)


def verdict_cell(verdict: Verdict, expected: str | None = None) -> dict[str, Any]:
    """What a verdict cell shows: the category, and on opening its reason, flags and every
    condition with its value and threshold."""
    return {
        "category": str(verdict.category),
        "expected": expected,
        "differs": expected is not None and expected != str(verdict.category),
        "reason": verdict.reason,
        "flags": list(verdict.flags),
        "conditions": [
            {
                "name": name,
                "holds": "undetermined" if c.holds is None else ("yes" if c.holds else "no"),
                "value": "undefined" if math.isnan(c.value) else f"{c.value:.4g}",
                "comparison": c.comparison,
                "threshold": f"{c.threshold:.4g}",
            }
            for name, c in verdict.conditions.items()
        ],
    }


def verdict_table(
    caption: str,
    row_heads: Sequence[str],
    rows: Sequence[tuple[Sequence[str], Mapping[str, Verdict], Mapping[str, str] | None]],
) -> Markup:
    """A table with one row per (heads, verdicts by lens, expected categories or None) and
    one column per lens; each cell opens to the verdict's reason and conditions."""
    lenses = list(rows[0][1]) if rows else []
    body = [
        {
            "heads": list(heads),
            "cells": [
                verdict_cell(verdicts[lens], expected.get(lens) if expected else None)
                for lens in lenses
            ],
        }
        for heads, verdicts, expected in rows
    ]
    html = _template("verdicts.html.j2").render(
        caption=caption, row_heads=row_heads, lenses=lenses, rows=body
    )
    return _markup(html)


def lens_rows_table(caption: str, verdicts: Mapping[str, Verdict]) -> Markup:
    """One diagnosis as a table with one row per lens (the layout of `alignlens diagnose`)."""
    rows = [((lens,), {"verdict": v}, None) for lens, v in verdicts.items()]
    return verdict_table(caption, ["lens"], rows)


def disagreement_list(disagreements: Sequence[Disagreement]) -> Markup:
    """Every pair of lenses with different verdicts, each opening to why they differ."""
    items = [
        {
            "x": d.lenses[0],
            "x_category": d.categories[0],
            "y": d.lenses[1],
            "y_category": d.categories[1],
            "explanation": d.explanation,
        }
        for d in disagreements
    ]
    return _markup(_template("disagreements.html.j2").render(items=items))


def table(caption: str, heads: Sequence[str], rows: Sequence[Sequence[Any]]) -> Markup:
    """A plain table; the first cell of each row is its header."""
    html = _template("table.html.j2").render(
        caption=caption, heads=heads, rows=[[str(c) for c in r] for r in rows]
    )
    return _markup(html)


def figure(fig: Figure, alt: str, caption: str) -> Markup:
    """A Matplotlib figure inlined as SVG, with its alt text and caption."""

    svg = base64.b64encode(svg_of(fig).encode()).decode()
    return _markup(_template("figure.html.j2").render(svg=svg, alt=alt, caption=caption))
