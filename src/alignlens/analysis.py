"""The frozen records of exact numbers that solvers produce and lenses read (docs/model.md).

`Range` and `ShareSet` are the value types: the extremes of a quantity over a set of
policies, and a set of deployment shares λ. `WorldAnalysis` holds the objective-level
part: what the world's objectives and the policy class imply before any policy is
learned (class optima, worst values, the uniformly random policy, and the range of each
regret over each optimal set).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import cast

from alignlens.confidence import LEVEL, runs_needed, upper_bound
from alignlens.tolerances import Tolerances

TIE = 1e-12


def all_tie(best: float, worst: float) -> bool:
    """Whether every policy ties: V* − W ≤ 1e-12·max(1, |V*|) (docs/model.md)."""
    return best - worst <= TIE * max(1.0, abs(best))


def normalized_regret(value: float, best: float, worst: float) -> float:
    """(V* − J) / (V* − W), clipped to [0, 1]; 0 when every policy ties. Computed on halves
    (exact scaling by 2), so that V* − W cannot overflow for finite returns; a return that
    is not finite gives NaN, never a clipped 0 or 1."""
    if not (math.isfinite(value) and math.isfinite(best) and math.isfinite(worst)):
        return math.nan
    if all_tie(best, worst):
        return 0.0
    gap = (best / 2 - value / 2) / (best / 2 - worst / 2)
    return float(min(1.0, max(0.0, gap)))


OBJECTIVES = ("base", "intended")
_RETURN_FIELDS = {(e, o): f"{e}_{o}" for e in ("train", "deploy") for o in OBJECTIVES}


@dataclass(frozen=True)
class Range:
    """The min and max of a quantity over a set of policies.

    ``min_bounds`` and ``max_bounds`` bracket each extreme; they collapse to the value
    itself when it is exact. When inexact, ``min`` and ``max`` are the values of real
    members (the witness side of each bracket).
    """

    min: float
    max: float
    min_bounds: tuple[float, float]
    max_bounds: tuple[float, float]

    @classmethod
    def exact_range(cls, low: float, high: float) -> Range:
        return cls(low, high, (low, low), (high, high))

    @property
    def exact(self) -> bool:
        return self.min_bounds[0] == self.min_bounds[1] and self.max_bounds[0] == self.max_bounds[1]

    @property
    def bounds(self) -> tuple[float, float]:
        """An interval that surely holds the quantity for every member of the set."""
        return (self.min_bounds[0], self.max_bounds[1])


@dataclass(frozen=True)
class Interval:
    """An interval of shares λ with open or closed ends."""

    low: float
    high: float
    low_closed: bool = True
    high_closed: bool = True

    def notation(self) -> str:
        if self.low == self.high:
            return f"{{{self.low:g}}}"
        left = "[" if self.low_closed else "("
        right = "]" if self.high_closed else ")"
        return f"{left}{self.low:g}, {self.high:g}{right}"


@dataclass(frozen=True)
class ShareSet:
    """A subset of [0, 1] as disjoint intervals, in order."""

    intervals: tuple[Interval, ...]

    def notation(self) -> str:
        return " ∪ ".join(i.notation() for i in self.intervals) if self.intervals else "∅"

    def contains(self, share: float) -> bool:
        return any(
            (i.low < share < i.high)
            or (share == i.low and i.low_closed)
            or (share == i.high and i.high_closed)
            for i in self.intervals
        )


@dataclass(frozen=True)
class ShareProfile:
    """The worst deployment regret under U over Opt(λ, R) as a function of λ ∈ [0, 1]:
    piecewise constant, since Opt(λ, R) changes only at a few vertices (for the tabular
    class with shared dynamics, only at 0 and 1; for an enumerated class, where the upper
    envelope of the mixture lines bends). The λ-set of outer alignment is where it is ≤ τ.

    Attributes:
        vertices: 0 = λ_0 < … < λ_m = 1.
        at_vertices: the regret range over Opt(λ_j, R), per vertex.
        on_segments: the regret range over Opt(λ, R) for λ strictly between λ_j and λ_j+1.
    """

    vertices: tuple[float, ...]
    at_vertices: tuple[Range, ...]
    on_segments: tuple[Range, ...]

    def at(self, share: float) -> Range:
        """The regret range over Opt(share, R)."""
        for j, vertex in enumerate(self.vertices):
            if share == vertex:
                return self.at_vertices[j]
            if j + 1 < len(self.vertices) and vertex < share < self.vertices[j + 1]:
                return self.on_segments[j]
        raise ValueError(f"λ = {share!r} is outside [0, 1]")


@dataclass(frozen=True)
class Envelope:
    """The upper (or lower) envelope of lines λ ↦ (1 − λ)·a + λ·b over λ ∈ [0, 1]: the best
    (or worst) mixture return over a class whose members have returns a in training and b
    in deployment. Only the lines that reach the envelope need be kept."""

    lines: tuple[tuple[float, float], ...]
    upper: bool = True

    @classmethod
    def line(cls, train: float, deploy: float, *, upper: bool = True) -> Envelope:
        return cls(((train, deploy),), upper)

    def __call__(self, share: float) -> float:
        values = [mix(a, b, share) for a, b in self.lines]
        return max(values) if self.upper else min(values)


def mix(train: float, deploy: float, share: float) -> float:
    """The mixture (1 − λ)·train + λ·deploy, exactly train at λ = 0 and deploy at λ = 1."""
    if share == 0.0:
        return train
    if share == 1.0:
        return deploy
    return (1.0 - share) * train + share * deploy


Line = tuple[float, float]
"""A mixture line λ ↦ (1 − λ)·a + λ·b, as (a, b): a return in training and one in deployment."""


def optimality_thresholds(
    best: Iterable[Line], worst: Iterable[Line], random: Line, tolerances: Tolerances
) -> set[Line]:
    """The lines (1 − ε)·V + ε·floor, for every line V of the best mixture return and every
    line of the normaliser's floor (W's lines for "range", the uniform random policy's line
    for "random", V − reward_scale for "absolute"): on each piece of λ, a policy is
    ε-optimal on the mixture exactly when its line is at or above one of these."""
    eps = tolerances.epsilon
    if tolerances.normaliser == "absolute":
        drop = eps * float(tolerances.reward_scale)  # type: ignore[arg-type]
        return {(b0 - drop, b1 - drop) for b0, b1 in best}
    floors = [random] if tolerances.normaliser == "random" else list(worst)
    return {
        ((1 - eps) * b0 + eps * f0, (1 - eps) * b1 + eps * f1)
        for b0, b1 in best
        for f0, f1 in floors
    }


@dataclass(frozen=True)
class MixtureExtremes:
    """V^λ_R* and W^λ_R, the best and worst mixture return of R over the class, as functions
    of λ; each is bracketed by a lower and an upper envelope (the same one when exact).

    Exact for an enumerated class (the envelopes of its members' lines) and for the
    tabular class with shared dynamics (one policy is optimal, and one worst, in both
    environments, so each is a single line). Under a dynamics shift the tabular class's
    mixture problem is bracketed: above by the environments' own optima, below by the
    policies known to be in the class.
    """

    best: tuple[Envelope, Envelope]
    worst: tuple[Envelope, Envelope]

    @classmethod
    def exact(cls, best: Envelope, worst: Envelope) -> MixtureExtremes:
        return cls((best, best), (worst, worst))

    @property
    def is_exact(self) -> bool:
        return self.best[0] == self.best[1] and self.worst[0] == self.worst[1]


@dataclass(frozen=True)
class Returns:
    """A return for each environment and objective."""

    train_base: float
    train_intended: float
    deploy_base: float
    deploy_intended: float

    def get(self, env: str, objective: str) -> float:
        return float(getattr(self, _RETURN_FIELDS[env, objective]))

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {e: {o: self.get(e, o) for o in OBJECTIVES} for e in ("train", "deploy")}


@dataclass(frozen=True)
class GoalRange:
    """Best and worst return of a candidate goal in one environment over the policy class,
    and the uniformly random policy's (which the "random" normaliser divides by)."""

    best: float
    worst: float
    random: float | None = None

    @property
    def degenerate(self) -> bool:
        """Every policy ties at this goal there: competence at it is undefined."""
        return all_tie(self.best, self.worst)

    def regret(self, value: float, tolerances: Tolerances) -> float:
        """The normalised regret of a return of this goal, by the tolerances' normaliser."""
        random = self.worst if self.random is None else self.random
        return normalized_regret(value, self.best, tolerances.floor(self.best, self.worst, random))


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(
        {k: _frozen(v) if isinstance(v, Mapping) else v for k, v in mapping.items()}
    )


@dataclass(frozen=True)
class WorldAnalysis:
    """Everything about a world that does not depend on a learned policy.

    Attributes:
        world: the world's name.
        policy_class: "tabular" (the class the extremes range over).
        tolerances: ε, τ, κ and λ used.
        optimum, worst: V* and W of each environment and objective over the class.
        random: returns of the uniformly random policy.
        optimal_sets: for "train_base", "deploy_base" and "mixture_base" (Opt(train, R),
            Opt(deploy, R), Opt(λ, R)), the range of each normalised regret over the set.
        outer_aligned_shares: the λ in [0, 1] for which every policy of Opt(λ, R) is
            aligned in deployment (reg^deploy_U ≤ τ).
        undetermined_shares: the λ for which that could not be decided exactly.
        goals: deployment best and worst of each candidate goal.
        train_goals: training best and worst of each candidate goal.
        shared_dynamics: whether the environments agree on every state they share.
        share_profile: the regret over Opt(λ, R) for every λ, when it is known exactly
            (not for the tabular class when the dynamics shift).
        mixture: V^λ_R* and W^λ_R, the best and worst mixture return of R over the class
            for every λ (bracketed for the tabular class when the dynamics shift).
    """

    world: str
    policy_class: str
    tolerances: Tolerances
    optimum: Returns
    worst: Returns
    random: Returns
    optimal_sets: Mapping[str, Mapping[str, Range]]
    outer_aligned_shares: ShareSet
    undetermined_shares: ShareSet
    goals: Mapping[str, GoalRange] = field(default_factory=dict)
    shared_dynamics: bool = True
    share_profile: ShareProfile | None = None
    mixture: MixtureExtremes | None = None
    train_goals: Mapping[str, GoalRange] = field(default_factory=dict)

    @property
    def mixture_extremes(self) -> MixtureExtremes:
        """`mixture`, which ``__post_init__`` always sets."""
        return cast(MixtureExtremes, self.mixture)

    def floor(self, env: str, objective: str) -> float:
        """The return of normalised regret 1 under the normaliser (W by default)."""
        if self.tolerances.normaliser == "range":
            return self.worst.get(env, objective)
        return self.tolerances.floor(
            self.optimum.get(env, objective),
            self.worst.get(env, objective),
            self.random.get(env, objective),
        )

    def regret(self, env: str, objective: str, value: float) -> float:
        """The normalised regret of a return of R ("base") or U ("intended") in ``env``."""
        return normalized_regret(
            value, self.optimum.get(env, objective), self.floor(env, objective)
        )

    def __post_init__(self) -> None:
        object.__setattr__(self, "optimal_sets", _frozen(self.optimal_sets))
        object.__setattr__(self, "goals", _frozen(self.goals))
        object.__setattr__(self, "train_goals", _frozen(self.train_goals))
        if self.mixture is None:  # exact for the tabular class with shared dynamics
            o, w = self.optimum, self.worst
            best = Envelope.line(o.train_base, o.deploy_base)
            worst = Envelope.line(w.train_base, w.deploy_base, upper=False)
            if self.shared_dynamics:
                mixture = MixtureExtremes.exact(best, worst)
            else:
                mixture = shifted_mixture(self)
            object.__setattr__(self, "mixture", mixture)


def shifted_mixture(w: WorldAnalysis) -> MixtureExtremes:
    """V^λ_R* and W^λ_R of the tabular class under a dynamics shift, bracketed by lines of
    policies known to be in the class: the best is at most the environments' own optima
    together and at least that of a training optimum (V^train with the worst deployment
    return W^deploy, or a member of Opt(train, R) with its best deployment return) and of a
    deployment optimum; the worst likewise, mirrored."""
    o, lo = w.optimum, w.worst
    # regrets are normalised by V* − floor (the normaliser's), so they convert back so too
    gap_train = o.train_base - w.floor("train", "base")
    gap_deploy = o.deploy_base - w.floor("deploy", "base")
    least = w.optimal_sets["train_base"]["deploy_base_regret"].min
    # a regret clipped at 1 says only that the return is at most the floor: take W then
    best_deploy_of_train_opt = o.deploy_base - gap_deploy * least if least < 1 else lo.deploy_base
    known_best = (
        (o.train_base, lo.deploy_base),
        (lo.train_base, o.deploy_base),
        (o.train_base - w.tolerances.epsilon * gap_train, best_deploy_of_train_opt),
    )
    known_worst = ((lo.train_base, o.deploy_base), (o.train_base, lo.deploy_base))
    return MixtureExtremes(
        (Envelope(known_best), Envelope.line(o.train_base, o.deploy_base)),
        (
            Envelope.line(lo.train_base, lo.deploy_base, upper=False),
            Envelope(known_worst, upper=False),
        ),
    )


@dataclass(frozen=True)
class MesaInfo:
    """What an explicit optimiser declares, with its measured competence in deployment.

    Attributes:
        objective: the name of its mesa-objective m.
        equals_base: whether m is the base objective R (same rewards everywhere).
        competence: 1 − reg^deploy_m(π̂).
        degenerate: every policy ties at m in deployment, so the competence is undefined
            (and never reaches κ).
        holder: None when the policy declares m itself (and was checked to be optimal for
            it in deployment); else what within the policy holds m (a population's member,
            a gene, a demon), whose competence is measured, not checked.
    """

    objective: str
    equals_base: bool
    competence: float
    degenerate: bool = False
    holder: str | None = None


@dataclass(frozen=True)
class HackEvidence:
    """An inner optimiser that could influence the search, recorded by the optimiser.

    Attributes:
        inner_optimizer: what it was ("meiotic drive", "demon", ...).
        inner_objective: its own objective at the learned policy.
        inner_objective_at_optimum: the highest value of that objective over Opt(train, R).
        counterfactual_regret: reg^train_R of the same run with the channel switched off,
            or None if the optimiser cannot switch it off.
        counterfactual_return: J^train_R of that run, when recorded: the analysis then
            normalises its regret as it normalises every other.
    """

    inner_optimizer: str
    inner_objective: float
    inner_objective_at_optimum: float
    counterfactual_regret: float | None = None
    counterfactual_return: float | None = None


@dataclass(frozen=True)
class OuterSample:
    """Outer alignment of a class that cannot be enumerated, estimated by sampling.

    k independent seeds are trained on the training levels; each one that ends fully
    optimised (reg^train_R ≤ ε) and misaligned in deployment (reg^deploy_U > τ) is a
    member of Opt(train, R) that is misaligned: a witness that outer alignment fails.
    Finding none is no witness, not a proof that it holds; and when no run ends fully
    optimised, the sample says nothing about Opt(train, R) at all.

    Attributes:
        policy_class: the class sampled (e.g. "neural (mlp 64×64, PPO 98304 steps)").
        seeds: the seed of each run.
        train_base_regret: reg^train_R of each run's policy.
        deploy_intended_regret: reg^deploy_U of each run's policy.
    """

    policy_class: str
    seeds: tuple[int, ...]
    train_base_regret: tuple[float, ...]
    deploy_intended_regret: tuple[float, ...]

    def fully_optimised(self, epsilon: float) -> tuple[int, ...]:
        """The seeds whose policy is fully optimised in training."""
        return tuple(
            s for s, r in zip(self.seeds, self.train_base_regret, strict=True) if r <= epsilon
        )

    def witnesses(self, epsilon: float, tau: float) -> tuple[int, ...]:
        """The seeds whose policy is fully optimised in training and misaligned in deployment."""
        return tuple(
            s
            for s, r, d in zip(
                self.seeds, self.train_base_regret, self.deploy_intended_regret, strict=True
            )
            if r <= epsilon and d > tau
        )

    def misaligned_share(self, epsilon: float, tau: float, level: float = LEVEL) -> float | None:
        """The exact (Clopper–Pearson) upper bound, at ``level``, on the chance that a run of
        this training process that ends fully optimised is misaligned in deployment (the
        fully optimised runs are independent draws of it); None when no run ended fully
        optimised."""
        optimised = len(self.fully_optimised(epsilon))
        if optimised == 0:
            return None
        return upper_bound(len(self.witnesses(epsilon, tau)), optimised, level)

    def runs_needed(self, bound: float, epsilon: float, level: float = LEVEL) -> int | None:
        """About how many runs, in all, would bound that chance by ``bound`` at ``level`` if
        none of their fully optimised ones were misaligned: the fully optimised runs needed
        (`runs_needed`) over the share of runs that ended fully optimised here (None when
        none did)."""
        optimised = len(self.fully_optimised(epsilon))
        if optimised == 0:
            return None
        return math.ceil(runs_needed(bound, level) * len(self.seeds) / optimised)


@dataclass(frozen=True)
class Analysis:
    """Every number the lenses read about one learned policy (docs/model.md).

    Attributes:
        objectives: the policy-independent part (class optima, optimal-set ranges, λ-set).
        policy: the learned policy's name.
        optimizer: the optimiser that produced it ("given" when supplied by the user).
        returns: J of the learned policy, per environment and objective.
        regret: its normalised regrets.
        competence: 1 − reg^deploy_g for every goal g.
        goal_is_base: for every goal, whether it is the base objective itself.
        train_competence: 1 − reg^train_g for every goal g (empty when not computed).
        mesa: the declared mesa-objective, if the policy is an explicit optimiser.
        hack: hack evidence, if the optimiser recorded any.
        outer_sample: for a class that cannot be enumerated (neural), the sampled estimate
            of outer alignment; the optimal-set ranges are then those of the tabular class
            over the same observations, a superclass.
    """

    objectives: WorldAnalysis
    policy: str
    optimizer: str
    returns: Returns
    regret: Returns
    competence: Mapping[str, float]
    goal_is_base: Mapping[str, bool]
    mesa: MesaInfo | None = None
    hack: HackEvidence | None = None
    outer_sample: OuterSample | None = None
    train_competence: Mapping[str, float] = field(default_factory=dict)
    _mixture_regrets: dict[float, Range] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "competence", _frozen(self.competence))
        object.__setattr__(self, "goal_is_base", _frozen(self.goal_is_base))
        object.__setattr__(self, "train_competence", _frozen(self.train_competence))

    def attribution(self) -> dict[str, dict[str, float | None]]:
        """The behavioural goal attribution: the policy's competence (1 − normalised
        regret) at R, at U and at every goal, in training and in deployment; None where
        every policy ties at that objective there (competence undefined)."""
        o = self.objectives
        out: dict[str, dict[str, float | None]] = {}
        for env in ("train", "deploy"):
            row: dict[str, float | None] = {}
            for objective in OBJECTIVES:
                tie = all_tie(o.optimum.get(env, objective), o.worst.get(env, objective))
                row[objective] = None if tie else 1.0 - self.regret.get(env, objective)
            ranges, values = (
                (o.train_goals, self.train_competence)
                if env == "train"
                else (o.goals, self.competence)
            )
            for goal, value in values.items():
                goal_range = ranges.get(goal)
                row[goal] = None if goal_range is not None and goal_range.degenerate else value
            out[env] = row
        return out

    @property
    def tolerances(self) -> Tolerances:
        return self.objectives.tolerances

    def mixture_return(self, share: float | None = None) -> float:
        """J^λ_R(π̂) = (1 − λ)·J^train_R(π̂) + λ·J^deploy_R(π̂), at λ = the deployment share
        unless another is given."""
        share = self.tolerances.deploy_share if share is None else share
        return mix(self.returns.train_base, self.returns.deploy_base, share)

    def mixture_regret(self, share: float | None = None) -> Range:
        """reg^λ_R(π̂): the normalised regret of the policy on the lifetime mixture, at λ =
        the deployment share unless another is given. Its min and max are one value; the
        bounds bracket it when the class's mixture extremes are bracketed (the value is
        then the upper end)."""
        share = self.tolerances.deploy_share if share is None else share
        known = self._mixture_regrets.get(share)
        if known is None:
            known = self._mixture_regrets[share] = self._mixture_regret_at(share)
        return known

    def _mixture_regret_at(self, share: float) -> Range:
        j = self.mixture_return(share)
        o = self.objectives
        m = o.mixture_extremes
        best = [max(j, e(share)) for e in m.best]  # the class holds π̂: V ≥ J ≥ W
        worst = [min(j, e(share)) for e in m.worst]
        tol = self.tolerances
        if tol.normaliser == "random":
            random = mix(o.random.train_base, o.random.deploy_base, share)
            floors = [random, random]
        elif tol.normaliser == "absolute":
            floors = [b - float(tol.reward_scale) for b in best]  # type: ignore[arg-type]
        else:
            floors = worst
        # reg rises with V (when V ≥ J) and with the floor (when it is ≤ J); a possible
        # tie of the whole class gives 0
        high = normalized_regret(j, best[1], floors[1])
        tie = all_tie(best[0], worst[1])
        low = 0.0 if tie else normalized_regret(j, best[0], floors[0])
        return Range(high, high, (low, high), (low, high))

    def over(self, optimal_set: str, quantity: str) -> Range:
        """The range of a regret over an optimal set ("train_base", "deploy_base",
        "mixture_base") — e.g. ``over("train_base", "deploy_intended_regret")``."""
        return self.objectives.optimal_sets[optimal_set][quantity]
