"""Where each verdict flips: every lens's category as a function of λ, ε, τ, κ and χ.

A verdict compares the analysis's numbers with thresholds, so as one threshold moves and
the numbers stay put, each condition can change only where the threshold meets one of
them. For τ, κ and χ (which no number of the analysis depends on) the verdict is
therefore constant between consecutive numbers of the analysis and is evaluated at each
of them and once between: the pieces are exact. For λ the numbers move with λ, but
piecewise linearly, and `alignlens.lenses.shares` gives the exact pieces where the regret
over Opt(λ, R) is known for every λ. ε changes the optimal sets themselves, and λ does so
for the tabular class under a dynamics shift: those are scanned by re-analysing the world
on a grid and bisecting each change to 1% (a piece narrower than a grid step can be
missed), and say so.

Exactness needs a lens to compare the analysis's own numbers (or numbers it lists among
its conditions) with the threshold, as every built-in lens does.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

from alignlens.analysis import Analysis, Interval, Range
from alignlens.diagnosis import Diagnosis
from alignlens.errors import SolverError
from alignlens.lenses import Verdict, apply_lenses, lenses
from alignlens.lenses.shares import pieces, verdicts_by_share
from alignlens.tolerances import NEIGHBOURHOOD, Tolerances

PARAMETERS = {
    "deploy_share": "λ",
    "epsilon": "ε",
    "tau": "τ",
    "kappa": "κ",
    "catastrophe": "χ",
}
THRESHOLDS = ("tau", "kappa", "catastrophe")  # exact: no number of the analysis moves
SCAN = tuple(10.0 ** (k / 2) for k in range(-18, -1))  # ε from 1e-9 to 0.1, half-decades
SHARE_SCAN = tuple(k / 20 for k in range(21))
BISECTIONS = 12  # halvings of a grid step: a change is located to about 1%

UNRESOLVED = "unresolved"
"""The category a scanned piece shows where the world cannot be analysed at that value."""

Redo = Callable[[Tolerances], Diagnosis]
"""The same diagnosis at other tolerances (the world re-analysed)."""


@dataclass(frozen=True)
class Piece:
    """Where a lens gives one category: an interval of the parameter."""

    interval: Interval
    category: str


@dataclass(frozen=True)
class Strip:
    """Every lens's verdict as a function of one parameter.

    Attributes:
        parameter: its name in `Tolerances` ("tau", ...).
        default: the value the diagnosis used.
        pieces: for every lens, maximal intervals of one category, in order.
        exact: whether the ends are exact (else located by bisection between grid points).
        low, high: the range shown.
    """

    parameter: str
    default: float
    pieces: Mapping[str, tuple[Piece, ...]]
    exact: bool
    low: float
    high: float

    @property
    def symbol(self) -> str:
        return PARAMETERS[self.parameter]

    def notation(self, lens: str) -> str:
        """E.g. "outer for τ ∈ [0, 0.51), inner for τ ∈ [0.51, 1]"."""
        return ", ".join(
            f"{p.category} for {self.symbol} ∈ {p.interval.notation()}" for p in self.pieces[lens]
        )

    def flips_near_default(self) -> dict[str, bool]:
        """For every lens, whether its category changes between the default's neighbours
        (half and twice it; for κ, half and twice 1 − κ)."""
        low, high = neighbourhood(self.parameter, self.default)
        return {
            lens: len({p.category for p in found if _meets(p.interval, low, high)}) > 1
            for lens, found in self.pieces.items()
        }


def sensitivity(diagnosis: Diagnosis, redo: Redo | None = None) -> dict[str, Strip]:
    """Every lens's verdict as a function of each parameter: τ, κ and χ exactly; λ exactly
    where the analysis allows it; ε, and λ otherwise, by re-analysis (only with ``redo``)."""
    out = {name: threshold_strip(diagnosis.analysis, name) for name in THRESHOLDS}
    shares = share_strip(diagnosis.analysis)
    if shares is None and redo is not None:
        shares = scanned_strip(diagnosis, redo, "deploy_share", SHARE_SCAN)
    if shares is not None:
        out["deploy_share"] = shares
    if redo is not None:
        out["epsilon"] = scanned_strip(diagnosis, redo, "epsilon", SCAN, log=True)
    return {name: out[name] for name in PARAMETERS if name in out}


def threshold_strip(
    a: Analysis,
    parameter: str,
    low: float = 0.0,
    high: float = 1.0,
    known: Iterable[float] | None = None,
    chosen: Iterable[str] | None = None,
) -> Strip:
    """The exact pieces in [``low``, ``high``] of a threshold no number of the analysis
    depends on (``known``: those numbers, when already gathered), for every lens or the
    ``chosen`` ones."""
    judges = lenses()
    if chosen is not None:
        judges = {name: judges[name] for name in chosen}
    inside = (x for x in (numbers(a) if known is None else known) if low < x < high)
    vertices = sorted({low, high, *inside})
    judged: dict[float, dict[str, str]] = {}

    def category_at(lens: str) -> Callable[[float], str]:
        def at(value: float) -> str:
            if value not in judged:  # the numbers were checked finite at the default
                read = with_tolerance(a, parameter, value)
                judged[value] = _categories(apply_lenses(read, judges, require_finite=False))
            return judged[value][lens]

        return at

    found = {
        lens: tuple(Piece(i, c) for i, c in pieces(vertices, category_at(lens))) for lens in judges
    }
    default = float(getattr(a.tolerances, parameter))
    return Strip(parameter, default, found, exact=True, low=low, high=high)


def fragile(a: Analysis, verdicts: Mapping[str, Verdict]) -> dict[str, list[str]]:
    """For τ, κ and χ, the lenses whose verdict flips within a factor of `NEIGHBOURHOOD` of
    the default (exact; what a sweep counts). Where no number of the analysis (bracket
    ends included) lies in that neighbourhood no condition can change there, and nothing
    is evaluated again; else only the lenses with a condition on that threshold are."""
    known = numbers(a, verdicts)
    out: dict[str, list[str]] = {}
    for parameter in THRESHOLDS:
        default = float(getattr(a.tolerances, parameter))
        low, high = neighbourhood(parameter, default)
        chosen = [
            name
            for name, verdict in verdicts.items()
            if any(c.threshold == default for c in verdict.conditions.values())
        ]
        if not chosen or not any(low <= x <= high for x in known):
            out[parameter] = []
            continue
        strip = threshold_strip(a, parameter, low, high, known, chosen)
        out[parameter] = [lens for lens, found in strip.pieces.items() if len(found) > 1]
    return out


def share_strip(a: Analysis) -> Strip | None:
    """The exact pieces in λ (None where the regret over Opt(λ, R) is not known for every
    λ: the tabular class under a dynamics shift)."""
    by_share = verdicts_by_share(a, lenses())
    if not by_share:
        return None
    found = {
        lens: tuple(Piece(p.shares, str(p.category)) for p in ps) for lens, ps in by_share.items()
    }
    return Strip("deploy_share", a.tolerances.deploy_share, found, True, 0.0, 1.0)


def scanned_strip(
    diagnosis: Diagnosis, redo: Redo, parameter: str, grid: Iterable[float], *, log: bool = False
) -> Strip:
    """Pieces found by re-diagnosing on ``grid`` (the default added) and bisecting every
    change of category between neighbours; ends are not exact. Where the world cannot be
    analysed at a value (an ε below what round-off resolves), the pieces say `UNRESOLVED`."""
    default = float(getattr(diagnosis.analysis.tolerances, parameter))
    cache: dict[float, dict[str, str]] = {default: _categories(diagnosis.verdicts)}

    def at(value: float) -> dict[str, str]:
        if value not in cache:
            tolerances = replace(diagnosis.analysis.tolerances, **{parameter: value})
            try:
                cache[value] = _categories(redo(tolerances).verdicts)
            except SolverError:  # e.g. an ε below what round-off can resolve in this world
                cache[value] = dict.fromkeys(cache[default], UNRESOLVED)
        return cache[value]

    points = sorted({*grid, default})
    for lo, hi in itertools.pairwise(points):
        for lens in at(lo):
            if at(lo)[lens] != at(hi)[lens]:
                _bisect(at, lens, lo, hi, log=log)
    ordered = sorted(cache)
    found = {lens: tuple(_runs(ordered, cache, lens)) for lens in cache[default]}
    return Strip(parameter, default, found, exact=False, low=points[0], high=points[-1])


def _bisect(
    at: Callable[[float], dict[str, str]], lens: str, lo: float, hi: float, *, log: bool
) -> None:
    """Narrow the change of ``lens`` between ``lo`` and ``hi`` (every value tried is kept)."""
    for _ in range(BISECTIONS):
        middle = math.sqrt(lo * hi) if log and lo > 0 else 0.5 * (lo + hi)
        if at(middle)[lens] == at(lo)[lens]:
            lo = middle
        else:
            hi = middle


def _runs(ordered: list[float], cache: Mapping[float, Mapping[str, str]], lens: str):
    """Maximal runs of one category over the values tried: each piece spans from its first
    value to its last (the change lies somewhere in the gap to the next piece)."""
    start = ordered[0]
    for previous, value in itertools.pairwise(ordered):
        if cache[value][lens] != cache[previous][lens]:
            yield Piece(Interval(start, previous), cache[previous][lens])
            start = value
    yield Piece(Interval(start, ordered[-1]), cache[ordered[-1]][lens])


def _categories(verdicts: Mapping) -> dict[str, str]:
    return {lens: str(v.category) for lens, v in verdicts.items()}


def with_tolerance(a: Analysis, parameter: str, value: float) -> Analysis:
    """The same analysis read with one of τ, κ, χ changed. No number of the analysis
    depends on them, so the records are copied as they are (nothing is recomputed, and the
    copies share the numbers) and only their tolerances are set."""
    if parameter not in THRESHOLDS:
        raise ValueError(f"{parameter} changes the analysis's numbers: re-analyse instead")
    objectives = copy.copy(a.objectives)
    object.__setattr__(objectives, "tolerances", replace(a.tolerances, **{parameter: value}))
    out = copy.copy(a)
    object.__setattr__(out, "objectives", objectives)
    return out


def numbers(a: Analysis, verdicts: Mapping[str, Verdict] | None = None) -> set[float]:
    """Every number of the analysis a lens compares with τ, κ or χ: the policy's regrets,
    the ranges over the optimal sets (with their brackets), the mixture regret, the
    competences, and the value of every condition of ``verdicts`` (by default, every
    lens's verdict on ``a``)."""
    out = set(a.regret.as_dict()["train"].values()) | set(a.regret.as_dict()["deploy"].values())
    ranges: list[Range] = [r for qs in a.objectives.optimal_sets.values() for r in qs.values()]
    ranges.append(a.mixture_regret())
    for r in ranges:
        out |= {r.min, r.max, *r.min_bounds, *r.max_bounds}
    out |= set(a.competence.values())
    if a.mesa is not None:
        out.add(a.mesa.competence)
    for verdict in (apply_lenses(a) if verdicts is None else verdicts).values():
        out |= {c.value for c in verdict.conditions.values()}
    return {x for x in out if math.isfinite(x)}


def neighbourhood(parameter: str, default: float) -> tuple[float, float]:
    """The values within a factor of `NEIGHBOURHOOD` of ``default`` (for κ, of 1 − κ)."""
    if parameter == "kappa":
        short = 1.0 - default
        return 1.0 - min(1.0, short * NEIGHBOURHOOD), 1.0 - short / NEIGHBOURHOOD
    return default / NEIGHBOURHOOD, min(1.0, default * NEIGHBOURHOOD)


def _meets(interval: Interval, low: float, high: float) -> bool:
    """Whether ``interval`` holds a point of [low, high]."""
    above = interval.high > low or (interval.high == low and interval.high_closed)
    below = interval.low < high or (interval.low == high and interval.low_closed)
    return above and below
