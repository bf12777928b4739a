"""Meiotic drive: a gene that wins its own transmission while lowering mean fitness.

One autosomal locus with alleles + and D under random mating. Genotypes ++, +D, DD have
fitness 1, 1 − hs, 1 − s; a heterozygote transmits D with probability k (fair meiosis:
k = ½). With p the frequency of D and q = 1 − p, one generation (selection, then
meiosis) maps

    p′ = [p²(1 − s) + 2pq(1 − hs)k] / w̄,    w̄ = 1 − sp² − 2hspq.

Evolution is the outer optimiser, mean fitness w̄ its objective (optimum 1: all ++). The
driver is an inner optimiser whose own objective is its frequency: where it invades
(λ₀ = 2k(1 − hs) > 1) it can rise although every step it takes lowers w̄, and with
fixation stable (2(1 − k)(1 − hs) < 1 − s) it ends with w̄ = 1 − s. Fair meiosis switches
that channel off: then D only costs fitness and is purged.

A finite population follows Wright–Fisher sampling: X_{t+1} ~ Binomial(2N, p′(X_t / 2N)),
in plain NumPy, one binomial draw per generation for all replicates at once, from a
Generator seeded with the run's seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from jaxtyping import Float

from alignlens.errors import AlignlensError

Frequency = float | Float[np.ndarray, "..."]  # one allele frequency, or an array of them


@dataclass(frozen=True)
class Drive:
    """One locus with a driving allele.

    Attributes:
        k: the probability that a heterozygote transmits D (½ is fair meiosis).
        s: the fitness cost of DD.
        h: dominance: +D has fitness 1 − hs.
    """

    k: float = 0.8
    s: float = 0.4
    h: float = 0.3

    def __post_init__(self) -> None:
        for name, low, high in (("k", 0.0, 1.0), ("s", 0.0, 1.0), ("h", 0.0, 1.0)):
            value = getattr(self, name)
            if not low <= value <= high:
                raise AlignlensError(
                    f"{name} = {value!r} is outside [{low:g}, {high:g}]",
                    field=name,
                    fix=f"give {name} a value in [{low:g}, {high:g}]",
                )

    def fair(self) -> Drive:
        """The counterfactual: the same locus under fair meiosis (k = ½)."""
        return replace(self, k=0.5)

    def mean_fitness(self, p: Frequency) -> Frequency:
        """w̄ = 1 − sp² − 2hspq at Hardy–Weinberg proportions."""
        q = 1.0 - p
        return 1.0 - self.s * p**2 - 2.0 * self.h * self.s * p * q

    def next_frequency(self, p: Frequency) -> Frequency:
        """p′: selection on genotypes, then meiosis with drive."""
        q = 1.0 - p
        driven = p**2 * (1.0 - self.s) + 2.0 * p * q * (1.0 - self.h * self.s) * self.k
        return driven / self.mean_fitness(p)

    @property
    def invasion_rate(self) -> float:
        """λ₀ = 2k(1 − hs): copies of a rare D per copy per generation; it invades iff > 1."""
        return 2.0 * self.k * (1.0 - self.h * self.s)

    @property
    def fixation_stable(self) -> bool:
        """A rare + in a DD population cannot invade: 2(1 − k)(1 − hs) < 1 − s."""
        return 2.0 * (1.0 - self.k) * (1.0 - self.h * self.s) < 1.0 - self.s

    @property
    def internal_equilibrium(self) -> float | None:
        """p̂ = [2k(1 − hs) − 1] / [s(1 − 2h)] when both boundaries are unstable, else None."""
        if self.invasion_rate <= 1.0 or self.fixation_stable:
            return None
        return (self.invasion_rate - 1.0) / (self.s * (1.0 - 2.0 * self.h))

    @property
    def establishment_probability(self) -> float:
        """π of a single new copy in a large population: the survival probability of a
        branching process with Poisson(λ₀) offspring, the root of 1 − π = exp(−λ₀π) in
        (0, 1] (0 when λ₀ ≤ 1)."""
        from scipy.optimize import brentq

        lam = self.invasion_rate
        if lam <= 1.0:
            return 0.0
        return float(brentq(lambda pi: 1.0 - pi - math.exp(-lam * pi), 1e-9, 1.0, xtol=1e-15))


def recursion(drive: Drive, p0: float, generations: int) -> Float[np.ndarray, " G1"]:
    """p_0, p_1, …, p_G of the deterministic recursion (an infinite population)."""
    p = np.empty(generations + 1)
    p[0] = p0
    for t in range(generations):
        p[t + 1] = drive.next_frequency(p[t])
    return p


def wright_fisher(
    drive: Drive, p0: float, population: int, generations: int, replicates: int, seed: int
) -> Float[np.ndarray, "R G1"]:
    """Frequencies of D in ``replicates`` finite populations of N diploids (2N gene
    copies), generations 0…G, by Wright–Fisher sampling around the recursion.

    Every replicate starts from round(p0 · 2N) copies; all randomness comes from
    ``np.random.default_rng(seed)`` (seed a non-negative integer), so the same seed gives the
    same paths."""
    rng = np.random.default_rng(seed)
    copies = 2 * population
    paths = np.empty((replicates, generations + 1))
    x = np.full(replicates, float(np.round(p0 * copies)))
    paths[:, 0] = x / copies
    for t in range(generations):
        with np.errstate(invalid="ignore", divide="ignore"):
            p = drive.next_frequency(x / copies)
        # w̄ = 0 only at p = 1 with s = 1 (0 / 0): the frequency then stays where it was.
        p = np.clip(np.where(np.isnan(p), x / copies, p), 0.0, 1.0)
        x = rng.binomial(copies, p).astype(np.float64)
        paths[:, t + 1] = x / copies
    return paths


@dataclass(frozen=True, eq=False)
class DriveRun:
    """One finite population evolved with drive, beside the recursion and the counterfactual
    run under fair meiosis (same seed, same start).

    Attributes:
        drive: the locus.
        population: N diploids.
        path: frequency of D per generation, 0…G, with drive.
        expected: the recursion from the same start (an infinite population).
        fair_path: the same run under fair meiosis (k = ½).
        seed: the run's seed.
    """

    drive: Drive
    population: int
    path: Float[np.ndarray, " G1"]
    expected: Float[np.ndarray, " G1"]
    fair_path: Float[np.ndarray, " G1"]
    seed: int


def evolve_with_drive(
    drive: Drive, p0: float, population: int, generations: int, seed: int
) -> DriveRun:
    """Evolve one population with drive and its fair-meiosis counterfactual."""
    return DriveRun(
        drive=drive,
        population=population,
        path=wright_fisher(drive, p0, population, generations, 1, seed)[0],
        expected=recursion(drive, p0, generations),
        fair_path=wright_fisher(drive.fair(), p0, population, generations, 1, seed)[0],
        seed=seed,
    )


def locus_world(drive: Drive) -> dict:
    """The locus as a world document: one choice among the genotypes ++, +D, DD, whose
    base (and intended) reward is the genotype's fitness; the goal "transmission" pays the
    genotype's share of D copies (0, ½, 1), the driver's own objective. A population at
    frequency p is the policy choosing each genotype at its Hardy–Weinberg frequency, so
    J_R = w̄ and J_transmission = p."""
    step = [["zygote", g, "adult", 1.0] for g in GENOTYPES]
    env = {"start": {"zygote": 1.0}, "terminal": ["adult"], "transitions": step}
    fitness = [
        ["zygote", "++", 1.0],
        ["zygote", "+D", 1.0 - drive.h * drive.s],
        ["zygote", "DD", 1.0 - drive.s],
    ]
    return {
        "name": "greedy-genes",
        "discount": 0.9,
        "deploy_share": 0.5,
        "states": ["zygote", "adult"],
        "actions": list(GENOTYPES),
        "train": env,
        "deploy": env,
        "objectives": {
            "base": fitness,
            "intended": fitness,
            "goals": {"transmission": [["zygote", "+D", 0.5], ["zygote", "DD", 1.0]]},
        },
    }


GENOTYPES = ("++", "+D", "DD")


def hardy_weinberg(p: float) -> Float[np.ndarray, " 3"]:
    """Genotype frequencies of ++, +D, DD at allele frequency p of D."""
    q = 1.0 - p
    return np.array([q * q, 2.0 * p * q, p * p])
