"""Diagnose a learned policy: world → analysis → lenses, with the evidence (the Python API).

``alignlens.diagnose(world, policy)`` accepts a world (or a world file) and a policy given
as a `TabularPolicy`, a policy file, a ``{state: action}`` mapping, or any callable from
observation to action or action probabilities.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alignlens.analysis import Analysis, HackEvidence, WorldAnalysis
from alignlens.errors import PolicyError
from alignlens.learned import Runs
from alignlens.lenses import Verdict, apply_lenses, lenses
from alignlens.lenses.disagreement import Disagreement, disagreements
from alignlens.lenses.shares import SharePiece, verdicts_by_share
from alignlens.policies.enumerated import EnumeratedClass, class_named, observation_member
from alignlens.policies.tabular import (
    TabularPolicy,
    load_policy,
    policy_from_callable,
    policy_from_mapping,
)
from alignlens.report.pages import diagnosis_html
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.analyze import analyze_world
from alignlens.solve.exact.enumerated import analyze_enumerated, class_extremes
from alignlens.solve.exact.policy_analysis import analyze_policy
from alignlens.tolerances import Tolerances
from alignlens.world import World, load_world

if TYPE_CHECKING:
    from alignlens.demons.meiotic_drive import DriveRun
    from alignlens.demons.tessellating_hills import HillsRuns
    from alignlens.learned import Trace
    from alignlens.solve.batched.analyze import ManyNumbers
    from alignlens.verdict_range import VerdictRange

PolicyLike = TabularPolicy | Mapping[str, Any] | Callable[[Any], Any] | str | Path


@dataclass(frozen=True, eq=False)
class Evidence:
    """What a report shows beside the numbers (data only; `alignlens.report` draws it): the
    world, the diagnosed policy, its training trace (for an imperfect optimiser that
    records one) and a demon's run beside its counterfactual.

    Attributes:
        world: the world diagnosed.
        policy: the policy diagnosed, as action tables.
        trace: exact returns per training step or generation, or None.
        demon: the run of an inner optimiser that steered the search, or None.
    """

    world: World
    policy: TabularPolicy
    trace: Trace | None = None
    demon: DriveRun | HillsRuns | None = None


@dataclass(frozen=True)
class Diagnosis:
    """An analysis, every lens's verdict on it, (from `diagnose`) the evidence a report
    draws, and for the exhaustive optimiser every lens's verdicts over the whole of
    Opt(train, R) (`over_optimal`)."""

    analysis: Analysis
    verdicts: Mapping[str, Verdict]
    evidence: Evidence | None = field(default=None, repr=False, compare=False)
    over_optimal: VerdictRange | None = None
    redo: Callable[[Tolerances], Diagnosis] | None = field(default=None, repr=False, compare=False)
    """The same diagnosis at other tolerances, the world re-analysed (from `diagnose`). It
    stays behind when a diagnosis is pickled (to another process): a policy class may hold
    functions that cannot travel."""

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "redo": None}

    def by_share(self) -> dict[str, list[SharePiece]]:
        """Each lens's category as a function of the deployment share λ (empty when the
        regret over Opt(λ, R) is not known for every λ)."""
        return verdicts_by_share(self.analysis, lenses())

    def disagreements(self) -> list[Disagreement]:
        """Every pair of lenses whose verdicts differ, with the conditions that separate
        them here, in words."""
        return disagreements(self.verdicts, lenses())

    def __repr__(self) -> str:
        lines = [f"Diagnosis of {self.analysis.policy!r} in {self.analysis.objectives.world!r}"]
        width = max(len(n) for n in self.verdicts)
        for name, v in self.verdicts.items():
            lines.append(f"  {name:<{width}}  {v.category:<22} {v.reason}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """In a notebook: the verdict table of the HTML report and the numbers behind it."""

        return diagnosis_html(self)


def as_policy(
    world: World, policy: PolicyLike | int, policy_class: EnumeratedClass | None = None
) -> TabularPolicy:
    """Any accepted policy form, as a `TabularPolicy` over the world's states (an int is a
    member of ``policy_class``)."""
    if isinstance(policy, TabularPolicy):
        return policy
    if isinstance(policy, int):
        if policy_class is None:
            raise PolicyError(
                "a member index needs a policy class",
                field="policy",
                fix="pass policy_class= or give the policy itself",
            )
        return policy_class.member(policy)
    if isinstance(policy, str | Path):
        return load_policy(world, policy)
    if isinstance(policy, Mapping):
        return policy_from_mapping(world, policy)
    return policy_from_callable(world, policy)


def diagnose(
    world: World | str | Path,
    policy: PolicyLike | int,
    *,
    policy_class: EnumeratedClass | str | None = None,
    tolerances: Tolerances | None = None,
    objectives: WorldAnalysis | None = None,
    optimizer: str = "given",
    hack: HackEvidence | None = None,
    runs: Runs | None = None,
    trace: Trace | None = None,
    demon: DriveRun | HillsRuns | None = None,
    over_optimal: VerdictRange | None = None,
    cache: SolveCache | None = None,
) -> Diagnosis:
    """Every number of the JSON document for ``policy`` in ``world``, and each lens's verdict.

    The class the optima and optimal sets range over is ``policy_class``: an enumerated
    class, or a class by name ("tabular" or "observation"), by default the one the world
    declares (tabular unless its file says otherwise). In the observation class the
    policy must be one of its members (one action per observation). ``objectives`` may
    pass a precomputed objective-level analysis of that class (it does not depend on the
    policy) to diagnose many policies of one world cheaply. ``runs``, independent runs of
    the optimiser (for a neural class, which cannot be enumerated), add the sampled
    estimate of outer alignment. ``trace`` and ``demon`` (a training trace, a demon's run)
    are kept as evidence for reports;
    ``over_optimal``, the verdicts over Opt(train, R) of an exhaustive search, is kept
    beside the verdicts. ``cache`` is the world's solve context when an optimiser already
    solved in it (the exhaustive search's), so nothing is solved twice.
    """

    cache = cache or SolveCache()
    w = world if isinstance(world, World) else load_world(world)
    if policy_class is None or isinstance(policy_class, str):
        name = w.policy_class if policy_class is None else policy_class
        policy_class = class_named(w, name)
        if name == "observation" and not isinstance(policy, int):
            file = str(policy) if isinstance(policy, str | Path) else None
            try:
                policy = observation_member(w, as_policy(w, policy))
            except PolicyError as error:
                named = PolicyError(error.problem, file=file, field=error.field, fix=error.fix)
                raise named from None
    p = as_policy(w, policy, policy_class)
    tol = tolerances or Tolerances(deploy_share=w.deploy_share)
    extremes = None
    if policy_class is not None:
        extremes = class_extremes(w, policy_class)
        objectives = objectives or analyze_enumerated(w, policy_class, tol)[0]
    objectives = objectives or analyze_world(w, tol, cache=cache)
    analysis = analyze_policy(
        w,
        p,
        objectives,
        optimizer=optimizer,
        class_extremes=extremes,
        hack=hack,
        runs=runs,
        cache=cache,
    )
    evidence = Evidence(w, p, trace, demon)
    redo = Rediagnosis(w, p, policy_class, optimizer, hack, runs)
    return Diagnosis(analysis, apply_lenses(analysis), evidence, over_optimal, redo)


@dataclass(frozen=True, eq=False)
class Rediagnosis:
    """What `diagnose` was given, to diagnose the same policy again at other tolerances
    (the world re-analysed): plain data, so a diagnosis still crosses process boundaries."""

    world: World
    policy: TabularPolicy
    policy_class: EnumeratedClass | None
    optimizer: str
    hack: HackEvidence | None
    runs: Runs | None

    def __call__(self, tolerances: Tolerances) -> Diagnosis:
        return diagnose(
            self.world,
            self.policy,
            policy_class=self.policy_class,
            tolerances=tolerances,
            optimizer=self.optimizer,
            hack=self.hack,
            runs=self.runs,
        )


def diagnoses_many(
    names: Sequence[str],
    numbers: ManyNumbers,
    tolerances: Tolerances,
    *,
    policy: str,
    optimizer: str,
) -> list[Diagnosis | None]:
    """One diagnosis per world from the batched numbers of `numbers_many` (None where the
    batched path left the world to the per-world one): `analyses_many`, then the lenses."""
    from alignlens.solve.batched.analyze import analyses_many

    with _collector_paused():
        analyses = analyses_many(names, numbers, tolerances, policy=policy, optimizer=optimizer)
        return [None if a is None else Diagnosis(a, apply_lenses(a)) for a in analyses]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while thousands of small acyclic records
    (analyses, verdicts) are built, and then move them out of its reach (`gc.freeze`):
    otherwise collections traverse them, first as they are built and again after, which
    costs about as much as building them. Reference counting still frees them. A
    collection of the young generations first leaves no young cyclic garbage to freeze."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.collect(1)
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.freeze()
            gc.enable()
