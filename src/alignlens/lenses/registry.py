"""The lenses alignlens applies: the built-in ones, then those other packages register.

A package adds a lens by naming an object that satisfies `Lens` under the entry-point
group ``alignlens.lenses`` in its own ``pyproject.toml``::

    [project.entry-points."alignlens.lenses"]
    my_lens = "my_package.lens:LENS"

Once the package is installed, the lens appears in ``alignlens lenses``, in every
diagnosis (terminal, ``--json``, HTML), and in sweep counts and disagreement tables. A
registered object that is not a lens, a name already taken, or a package that fails to
import is an error naming the entry point: a lens the user installed is never dropped
silently.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from alignlens.analysis import Analysis
from alignlens.errors import AlignlensError, SolverError
from alignlens.lenses.hubinger import LENS as HUBINGER
from alignlens.lenses.ngo import LENS as NGO
from alignlens.lenses.protocol import Lens, lens_problems
from alignlens.lenses.shah import LENS as SHAH
from alignlens.lenses.shah_safety import LENS as SHAH_SAFETY
from alignlens.lenses.shimi import LENS as SHIMI
from alignlens.lenses.two_d import LENS as TWO_D
from alignlens.lenses.verdict import Category, Condition, Verdict
from alignlens.lenses.wentworth import LENS as WENTWORTH
from alignlens.lenses.wentworth_split import LENS as WENTWORTH_SPLIT

GROUP = "alignlens.lenses"
BUILT_IN: tuple[Lens, ...] = (
    WENTWORTH,
    HUBINGER,
    NGO,
    SHAH,
    TWO_D,
    WENTWORTH_SPLIT,
    SHAH_SAFETY,
    SHIMI,
)
"""The essay's five definitions (docs/lenses.md), then the thread's other three."""
BUILT_IN_NAMES = frozenset(lens.name for lens in BUILT_IN)


@dataclass(frozen=True)
class Registered:
    """A lens and where it comes from ("built in", or the package and entry point)."""

    lens: Lens
    origin: str

    @property
    def built_in(self) -> bool:
        return self.origin == "built in"


class LensError(AlignlensError):
    """A lens registered by another package that cannot be used."""


@functools.cache
def lens_registry() -> tuple[Registered, ...]:
    """Every lens: the built-in ones in their order, then registered ones by name."""
    out = [Registered(lens, "built in") for lens in BUILT_IN]
    taken = set(BUILT_IN_NAMES)
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        lens = _load(point)
        if lens.name in taken:
            raise _entry_error(
                point,
                f"it registers the lens name {lens.name!r}, which another lens has",
                "give the lens another name",
            )
        taken.add(lens.name)
        out.append(Registered(lens, _origin(point)))
    return tuple(out)


def lenses() -> dict[str, Lens]:
    """Every lens by name, in the order of `lens_registry`."""
    return {r.lens.name: r.lens for r in lens_registry()}


def lens_names() -> tuple[str, ...]:
    return tuple(r.lens.name for r in lens_registry())


def apply_lenses(
    analysis: Analysis, chosen: Mapping[str, Lens] | None = None, *, require_finite: bool = True
) -> dict[str, Verdict]:
    """Every lens's verdict on one analysis (or those of ``chosen``); a registered lens that
    fails, or returns something that is not a verdict in the shared vocabulary, is an
    error naming it. None comes from an analysis whose returns or regrets are not finite
    numbers (an overflow would make every regret 0 or 1 and every verdict wrong); a caller
    that re-reads checked numbers at other thresholds may skip the check."""
    if require_finite:
        _require_finite(analysis)
    out = {}
    for name, lens in (lenses() if chosen is None else chosen).items():
        if name in BUILT_IN_NAMES:
            out[name] = lens(analysis)
            continue
        try:
            verdict = lens(analysis)
        except AlignlensError:
            raise
        except Exception as error:  # a third-party lens's bug, reported as one line
            raise _lens_error(name, f"it failed: {type(error).__name__}: {error}") from None
        _check_verdict(name, lens, verdict)
        out[name] = verdict
    return out


def _require_finite(analysis: Analysis) -> None:
    numbers = {
        "optimum": analysis.objectives.optimum,
        "worst": analysis.objectives.worst,
        "returns": analysis.returns,
        "regret": analysis.regret,
    }
    for name, r in numbers.items():  # sixteen numbers, on every diagnosis: kept cheap
        if all(
            map(math.isfinite, (r.train_base, r.train_intended, r.deploy_base, r.deploy_intended))
        ):
            continue
        for env, row in r.as_dict().items():
            for objective, value in row.items():
                if not math.isfinite(value):
                    raise SolverError(
                        f"the {name} of {objective} in {env} is {value}: the world's numbers "
                        "overflow, and no verdict can be read from them",
                        field="objectives",
                        fix="rescale the rewards so that returns stay well within ±1e100",
                    )


def _check_verdict(name: str, lens: Lens, verdict: object) -> None:
    if not isinstance(verdict, Verdict):
        raise _lens_error(name, f"it returned {type(verdict).__name__}, not a Verdict")
    if verdict.lens != name:
        raise _lens_error(name, f"its verdict names the lens {verdict.lens!r}")
    allowed = {Category.ALIGNED, *lens.card.categories}
    if verdict.category not in allowed:
        raise _lens_error(
            name, f"its verdict {verdict.category!r} is not among the categories its card lists"
        )
    if not isinstance(verdict.category, Category):
        raise _lens_error(name, f"its category {verdict.category!r} is not a Category")
    for key, c in verdict.conditions.items():
        if not (
            isinstance(c, Condition)
            and all(_real(x) for x in (c.value, c.threshold))
            and c.holds in (True, False, None)
        ):
            raise _lens_error(
                name, f"its condition {key!r} is not a Condition of two numbers and a truth"
            )
    missing = set(verdict.basis) - set(verdict.conditions)
    if missing:
        raise _lens_error(name, f"its basis names conditions it did not give: {sorted(missing)}")


def _real(x: object) -> bool:
    """A real number (NaN allowed: an undefined value), not a bool."""
    return isinstance(x, int | float) and not isinstance(x, bool)


def _lens_error(name: str, problem: str) -> LensError:
    return LensError(
        f"the lens {name!r} cannot be used: {problem}",
        field="alignlens.lenses",
        fix="fix the package that registers it, or uninstall that package",
    )


def _load(point: EntryPoint) -> Lens:
    try:
        lens = point.load()
    except Exception as error:
        raise _entry_error(
            point, f"it cannot be loaded ({type(error).__name__}: {error})", "fix the package"
        ) from None
    problems = lens_problems(lens)
    if problems:
        raise _entry_error(
            point,
            "; ".join(problems),
            "register an alignlens.lenses.LensDef (or another object with a name, a label, a "
            "card and a call from an analysis to a verdict)",
        )
    return lens


def _origin(point: EntryPoint) -> str:
    dist = point.dist
    package = f"{dist.name} {dist.version}" if dist is not None else "an installed package"
    return f"{package} (entry point {point.name} = {point.value})"


def _entry_error(point: EntryPoint, problem: str, fix: str) -> LensError:
    return LensError(
        f"the lens registered by {_origin(point)} cannot be used: {problem}",
        field=GROUP,
        fix=f"{fix}, or uninstall the package",
    )
