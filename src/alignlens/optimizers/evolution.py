"""Evolution: a finite Wright–Fisher population of genotypes over an enumerated class.

A genotype is a member of the class, read as one allele per locus (one parameter value
per parameter of a product class; a plain list is one locus). Each generation:

1. every individual's fitness is its genotype's exact base return in training, plus
   Gaussian noise of standard deviation ``fitness_noise`` (finite offspring);
2. N offspring each draw two parents with probability ∝ exp(selection · fitness) (so
   selection 0 is pure drift);
3. each locus of an offspring comes from either parent with probability ½ (free
   recombination), then mutates with probability ``mutation`` to another allele, uniformly.

With a drive locus (``EvolutionConfig.drive``), one allele of one locus cheats in step 3:
when exactly one parent carries it, the offspring inherits it with probability k instead
of ½ (meiotic drive, `alignlens.demons.meiotic_drive`). The result then carries hack
evidence: the driver's share of the final population, its highest share at any training
optimum (1 if a member carrying it is optimal, else 0), and the training regret of the
same run with fair transmission (the counterfactual).

The result is the population, which acts as the mixture policy that draws a member per
episode (`alignlens.policies.mixture`). The trace records the population's exact mean
returns and its make-up (individuals per member) in every generation.

The simulation is plain NumPy: each generation is vectorised over the individuals (and
over independent replicate populations, `make_train`), with a Python loop over the
generations. Its randomness comes only from Generators seeded with the run's seed, so the
same seed gives the same population.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from alignlens.analysis import HackEvidence, normalized_regret
from alignlens.learned import MAKE_UP_LIMIT, Learned, Population, Trace
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.policies.mixture import mixture_policy
from alignlens.solve.exact.enumerated import member_returns, optimal_members
from alignlens.world.model import World


@dataclass(frozen=True)
class DriveLocus:
    """A driving allele: ``allele`` at ``locus`` is inherited with probability ``k`` from a
    pair of parents of whom exactly one carries it (½ is fair transmission)."""

    allele: int
    locus: int = 0
    k: float = 0.9


@dataclass(frozen=True)
class EvolutionConfig:
    """Settings of Wright–Fisher evolution.

    Attributes:
        population: N, the number of individuals.
        generations: the budget, in generations.
        selection: β; parents are drawn with probability ∝ exp(β · fitness).
        mutation: μ, the probability per locus and generation of mutating.
        fitness_noise: standard deviation of the noise added to each realised fitness.
        initial: "uniform" (every individual a uniformly random genotype) or a member index
            (every individual starts as that member).
        drive: a driving allele, or None for fair transmission everywhere.
    """

    population: int = 200
    generations: int = 200
    selection: float = 10.0
    mutation: float = 1e-3
    fitness_noise: float = 0.0
    initial: str | int = "uniform"
    drive: DriveLocus | None = None


def make_train(fitness: np.ndarray, loci: tuple[int, ...], config: EvolutionConfig) -> Callable:
    """``train(seed) -> (final genotypes [N, L], member index per generation [G, N])``.

    ``train(seed, replicates=R)`` evolves R independent populations at once and returns
    ``([R, N, L], [R, G, N])``. Plain NumPy, vectorised over the replicates and the
    individuals of a generation; all randomness comes from Generators seeded with ``seed``
    (a non-negative integer), so the same seed (and R) gives the same populations.
    """
    table = np.asarray(fitness, dtype=np.float64)
    alleles = np.asarray(loci, dtype=np.int64)
    mutable = alleles > 1
    strides = _strides(loci)
    n, n_loci = config.population, len(loci)

    def train(seed: int, replicates: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        r = 1 if replicates is None else replicates
        rng = np.random.default_rng(seed)
        # The drive has its own stream, so a run with drive consumes the same numbers as
        # the same seed's fair run everywhere else (a coupled counterfactual).
        drive_rng = np.random.default_rng((seed, 7)) if config.drive is not None else None
        if config.initial == "uniform":
            genotypes = rng.integers(0, alleles, size=(r, n, n_loci))
        else:
            digits = np.array(np.unravel_index(int(config.initial), loci), dtype=np.int64)
            genotypes = np.broadcast_to(digits, (r, n, n_loci)).copy()
        history = np.empty((r, config.generations, n), dtype=np.int64)
        offset = np.arange(r)[:, None]  # population i's CDF, normalised, lies in [i, i + 1]

        def draw(cdf: np.ndarray) -> np.ndarray:  # n parents per population ∝ weight
            u = (rng.random((r, n)) + offset).ravel()  # inverting the stacked CDFs at once
            i = np.searchsorted(cdf, u, side="right").reshape(r, n) - offset * n
            return np.minimum(i, n - 1)[..., None]

        for g in range(config.generations):
            realised = table[genotypes @ strides]  # [R, N]
            if config.fitness_noise:
                realised = realised + config.fitness_noise * rng.standard_normal((r, n))
            weight = np.exp(config.selection * (realised - realised.max(axis=1, keepdims=True)))
            cdf = np.cumsum(weight, axis=1)
            cdf = (cdf / cdf[:, -1:] + offset).ravel()
            mother = np.take_along_axis(genotypes, draw(cdf), axis=1)
            father = np.take_along_axis(genotypes, draw(cdf), axis=1)
            from_mother = rng.random((r, n, n_loci)) < 0.5
            child = np.where(from_mother, mother, father)
            if config.drive is not None:
                child = _drive(config.drive, child, mother, father, drive_rng)
            mutate = (rng.random((r, n, n_loci)) < config.mutation) & mutable
            if mutate.any():
                at = np.nonzero(mutate)
                high = alleles[at[2]]
                shift = rng.integers(1, high)  # to another allele, uniformly
                child[at] = (child[at] + shift) % high
            genotypes = child
            history[:, g] = genotypes @ strides
        if replicates is None:
            return genotypes[0], history[0]
        return genotypes, history

    return train


def evolution(
    world: World,
    policy_class: EnumeratedClass,
    config: EvolutionConfig | None = None,
    *,
    seed: int = 0,
) -> Learned:
    """Evolve a population on J^train_R over ``policy_class``; return it as a mixture."""

    config = config or EvolutionConfig()
    goals = {f"goal:{g}": r for g, r in world.goals.items()}
    returns = member_returns(
        world, policy_class, {"base": world.base, "intended": world.intended, **goals}
    )
    make = make_train(returns["train", "base"], policy_class.loci, config)
    final, history = make(seed)
    members, counts = np.unique(final @ _strides(policy_class.loci), return_counts=True)
    population = [policy_class.member(int(i)) for i in members]
    policy = mixture_policy(
        world,
        population,
        counts.astype(float),
        name=f"evolved population ({config.generations} generations)",
    )
    trace = {  # the population's mean return, under every objective, per generation
        f"{env}_{name}": returns[env, name][history].mean(axis=1) for env, name in returns.values
    }
    return Learned(
        policy=policy,
        optimizer="evolution",
        seed=seed,
        trace=Trace(np.arange(1, config.generations + 1), trace, _make_up(history, policy_class)),
        population=Population(members, counts),
        hack=None
        if config.drive is None
        else _drive_evidence(
            config.drive,
            config,
            policy_class.loci,
            returns["train", "base"],
            final,
            seed,
        ),
    )


def _drive_evidence(
    d: DriveLocus,
    config: EvolutionConfig,
    loci: tuple[int, ...],
    fitness: np.ndarray,
    final: np.ndarray,
    seed: int,
) -> HackEvidence:
    """The driver's share of the final population, its highest share at a training optimum
    (whether an optimal member carries it), and the regret of the fair-transmission run."""

    best, worst = float(fitness.max()), float(fitness.min())
    strides = _strides(loci)
    fair, _ = make_train(fitness, loci, replace(config, drive=None))(seed)
    fair_return = float(fitness[fair @ strides].mean())
    fair_regret = normalized_regret(fair_return, best, worst)
    optimal = np.flatnonzero(optimal_members(fitness, 1e-6))
    carriers = np.unravel_index(optimal, loci)[d.locus] == d.allele
    return HackEvidence(
        inner_optimizer=f"meiotic drive (allele {d.allele} at locus {d.locus}, k = {d.k:g})",
        inner_objective=float(np.mean(final[:, d.locus] == d.allele)),
        inner_objective_at_optimum=float(carriers.any()),
        counterfactual_regret=fair_regret,
        counterfactual_return=fair_return,
    )


def _drive(
    d: DriveLocus,
    child: np.ndarray,
    mother: np.ndarray,
    father: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """``child`` (genotypes [..., L]) with the drive locus redrawn where exactly one parent
    carries the driving allele: it is inherited with probability k, else the other parent's
    allele."""
    m, f = mother[..., d.locus], father[..., d.locus]
    m_has, f_has = m == d.allele, f == d.allele
    wins = rng.random(m.shape) < d.k
    other = np.where(m_has, f, m)
    out = np.array(child, copy=True)
    out[..., d.locus] = np.where(
        m_has != f_has, np.where(wins, d.allele, other), child[..., d.locus]
    )
    return out


def _make_up(history: np.ndarray, cls: EnumeratedClass) -> np.ndarray | None:
    """Counts of every member per generation, for classes small enough to tabulate."""
    if cls.size > MAKE_UP_LIMIT:
        return None
    return np.stack([np.bincount(row, minlength=cls.size) for row in history]).astype(np.int64)


def _strides(loci: tuple[int, ...]) -> np.ndarray:
    return np.cumprod((*loci[1:], 1)[::-1])[::-1].copy()
