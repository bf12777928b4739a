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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from alignlens.analysis import HackEvidence
from alignlens.optimizers.result import (
    MAKE_UP_LIMIT,
    Population,
    Trace,
    TrainingResult,
)
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.policies.mixture import mixture_policy
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
    """``train(key) -> (final genotypes [N, L], member index per generation [G, N])``."""
    import jax
    import jax.numpy as jnp

    from alignlens.solve import backup_jax  # noqa: F401  (float64 everywhere)

    table = jnp.asarray(fitness)
    alleles = jnp.asarray(loci)
    strides = jnp.asarray(np.cumprod((*loci[1:], 1)[::-1])[::-1].copy())
    n, n_loci = config.population, len(loci)

    def index(genotypes: jax.Array) -> jax.Array:
        return genotypes @ strides

    def generation(genotypes: jax.Array, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        k_noise, k_mother, k_father, k_cross, k_mut, k_allele = jax.random.split(key, 6)
        realised = table[index(genotypes)] + config.fitness_noise * jax.random.normal(k_noise, (n,))
        weight = jnp.exp(config.selection * (realised - jnp.max(realised)))
        cdf = jnp.cumsum(weight)

        def draw(k: jax.Array) -> jax.Array:  # n parents ∝ weight, by inverting the CDF
            u = jax.random.uniform(k, (n,)) * cdf[-1]
            return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), n - 1)

        mother, father = draw(k_mother), draw(k_father)
        from_mother = jax.random.bernoulli(k_cross, 0.5, (n, n_loci))
        child = jnp.where(from_mother, genotypes[mother], genotypes[father])
        if config.drive is not None:  # its own key, so runs without drive are unchanged
            k_drive = jax.random.fold_in(key, 7)
            child = _drive(config.drive, child, genotypes[mother], genotypes[father], k_drive)
        mutate = jax.random.bernoulli(k_mut, config.mutation, (n, n_loci)) & (alleles > 1)
        shift = jax.random.randint(k_allele, (n, n_loci), 1, jnp.maximum(alleles, 2))
        child = jnp.where(mutate, (child + shift) % alleles, child)
        return child, index(child)

    def train(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        k_init, k_run = jax.random.split(key)
        if config.initial == "uniform":
            genotypes = jax.random.randint(k_init, (n, n_loci), 0, alleles)
        else:
            digits = np.array(np.unravel_index(int(config.initial), loci))
            genotypes = jnp.broadcast_to(jnp.asarray(digits), (n, n_loci))
        return jax.lax.scan(generation, genotypes, jax.random.split(k_run, config.generations))

    return jax.jit(train)


def evolution(
    world: World,
    policy_class: EnumeratedClass,
    config: EvolutionConfig | None = None,
    *,
    seed: int = 0,
) -> TrainingResult:
    """Evolve a population on J^train_R over ``policy_class``; return it as a mixture."""
    import jax

    from alignlens.solve.enumerated import member_returns

    config = config or EvolutionConfig()
    goals = {f"goal:{g}": r for g, r in world.goals.items()}
    returns = member_returns(
        world, policy_class, {"base": world.base, "intended": world.intended, **goals}
    )
    make = make_train(returns["train", "base"], policy_class.loci, config)
    final, history = make(jax.random.PRNGKey(seed))
    history = np.asarray(history)
    members, counts = np.unique(np.asarray(final) @ _strides(policy_class.loci), return_counts=True)
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
    return TrainingResult(
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
            np.asarray(final),
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
    import jax

    from alignlens.solve.enumerated import optimal_members
    from alignlens.solve.optimal_set import normalized_regret

    best, worst = float(fitness.max()), float(fitness.min())
    strides = _strides(loci)
    fair, _ = make_train(fitness, loci, replace(config, drive=None))(jax.random.PRNGKey(seed))
    fair_regret = normalized_regret(float(fitness[np.asarray(fair) @ strides].mean()), best, worst)
    optimal = np.flatnonzero(optimal_members(fitness, 1e-6))
    carriers = np.unravel_index(optimal, loci)[d.locus] == d.allele
    return HackEvidence(
        inner_optimizer=f"meiotic drive (allele {d.allele} at locus {d.locus}, k = {d.k:g})",
        inner_objective=float(np.mean(final[:, d.locus] == d.allele)),
        inner_objective_at_optimum=float(carriers.any()),
        counterfactual_regret=fair_regret,
    )


def _drive(d: DriveLocus, child: Any, mother: Any, father: Any, key: Any) -> Any:
    """``child`` with the drive locus redrawn where exactly one parent carries the driving
    allele: it is inherited with probability k, else the other parent's allele."""
    import jax
    import jax.numpy as jnp

    m, f = mother[:, d.locus], father[:, d.locus]
    m_has, f_has = m == d.allele, f == d.allele
    wins = jax.random.bernoulli(key, d.k, m.shape)
    other = jnp.where(m_has, f, m)
    locus = jnp.where(m_has != f_has, jnp.where(wins, d.allele, other), child[:, d.locus])
    return child.at[:, d.locus].set(locus)


def _make_up(history: np.ndarray, cls: EnumeratedClass) -> np.ndarray | None:
    """Counts of every member per generation, for classes small enough to tabulate."""
    if cls.size > MAKE_UP_LIMIT:
        return None
    return np.stack([np.bincount(row, minlength=cls.size) for row in history]).astype(np.int64)


def _strides(loci: tuple[int, ...]) -> np.ndarray:
    return np.cumprod((*loci[1:], 1)[::-1])[::-1].copy()
