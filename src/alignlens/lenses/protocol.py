"""What a lens is: a name, a card, and a pure function from an analysis to a verdict.

Every lens, built in or third-party, satisfies `Lens`. A lens reads the numbers of one
`Analysis` (it never runs a solver), and returns a `Verdict` whose category is one of
`Category` and whose every number appears among its conditions: that is what lets the
sensitivity analysis, the sweep counts and the disagreement explanations treat any lens
as they treat the built-in ones. `LensDef` is the ready-made implementation: a card and
a function.

Third-party lenses are registered under the entry-point group ``alignlens.lenses``; see
`alignlens.lenses.registry`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from alignlens.analysis import Analysis
from alignlens.lenses.verdict import Category, Verdict

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
LABEL_WIDTH = 5  # the widest short label a table column takes


@dataclass(frozen=True)
class LensCard:
    """What a lens formalises, for people.

    Attributes:
        title: a short title, e.g. "Wentworth (the essay)".
        source: who said it, and where.
        quote: the line the lens formalises, as its author wrote it.
        rule: the definition in one or two sentences, in the notation of the analysis.
        categories: every category the lens can return.
        frame: the set of optimal policies its outer condition quantifies over (e.g.
            "Opt(train, R)"), or None when it reads none.
    """

    title: str
    source: str
    quote: str
    rule: str
    categories: tuple[Category, ...]
    frame: str | None = None


@runtime_checkable
class Lens(Protocol):
    """A definition of inner and outer alignment, as a pure function of an analysis.

    Attributes:
        name: the key of its verdicts in JSON and sweep stores (lower-case letters,
            digits and underscores, starting with a letter; at most 32 characters).
        label: at most 5 characters, the head of its column in tables.
        card: what it formalises.
    """

    name: str
    label: str
    card: LensCard

    def __call__(self, analysis: Analysis) -> Verdict:
        """The verdict on one analysis: ALIGNED when reg^deploy_U(π̂) ≤ τ, else the
        category the definition gives, with every condition it tested."""
        ...


@dataclass(frozen=True)
class LensDef:
    """A lens made of a card and a function (the way the built-in lenses are made).

    Attributes:
        name, label, card: as `Lens` says.
        judge: the function from an analysis to a verdict.
    """

    name: str
    label: str
    card: LensCard
    judge: Callable[[Analysis], Verdict]

    def __call__(self, analysis: Analysis) -> Any:  # a Verdict, which the registry checks
        return self.judge(analysis)


def lens_problems(lens: object) -> list[str]:
    """What keeps ``lens`` from being a `Lens` (empty when it is one)."""
    if not isinstance(lens, Lens):
        return ["it is not a lens: it needs a name, a label, a card and to be callable"]
    out = []
    if not (isinstance(lens.name, str) and NAME_PATTERN.match(lens.name)):
        out.append(
            f"its name {lens.name!r} is not lower-case letters, digits and underscores "
            "(starting with a letter, at most 32 characters)"
        )
    if not (isinstance(lens.label, str) and 0 < len(lens.label) <= LABEL_WIDTH):
        out.append(f"its label {lens.label!r} is not 1 to {LABEL_WIDTH} characters")
    if not isinstance(lens.card, LensCard):
        out.append("its card is not an alignlens.lenses.LensCard")
    elif not all(isinstance(c, Category) for c in lens.card.categories):
        names = ", ".join(str(c) for c in Category)
        out.append(f"its card lists categories that are not alignlens Categories ({names})")
    return out
