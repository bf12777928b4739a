"""birth-control — a drive that was as good as fitness, until contraception.

The case (the essay's motivating example): humans are planners whose genes weight
pleasure and offspring. In the ancestral environment sex always risks offspring, so a
pleasure-driven genotype is exactly as fit as an offspring-driven one; the modern
environment adds contraception (slightly more pleasant), and the pleasure-driven planner
uses it. Fitness (R = U: offspring) is the same objective in both environments.

Optimiser: exhaustive search over the four genotypes. Three are optimal in the
ancestral environment; the representative is the one worst in deployment under U (the
pleasure-driven genotype), and the run reports every lens's verdicts over all three:
Wentworth's is outer for 1 of the 3 optimal genotypes and aligned for the other 2.
Perfect optimisation of ancestral fitness cannot tell the drives apart.

Expected verdicts and why:
- wentworth **outer**: the pleasure-driven genotype is fully optimal in the ancestral
  environment and misaligned in the modern one; perfect search would not fix it.
- hubinger **inner**: with modern data in the objective only offspring-driven genotypes are
  optimal (outer alignment holds at λ = ½); the pleasure-driven policy is no optimum of R
  on its lifetime's mix of data.
- ngo **inner**: a planner competently pursues its own objective (pleasure), not fitness.
- shah **inner**: every ancestral optimum behaves well in the ancestral environment.
- two_d **inner**: a mesa-optimiser whose objective does not generalise.
- wentworth_split **robustness**: optimal in training, and R evaluated in deployment
  rewards only aligned policies (outer′ holds): what fails is robustness.
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy.

World file: examples/birth-control.toml.
"""

from __future__ import annotations

from alignlens.diagnosis import Diagnosis
from alignlens.scenarios.genotypes import genotypes
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = example_world("birth-control.toml")
    humans = genotypes(world)
    return diagnose_exhaustive(world, humans, optimizer, noun="genotypes")


SCENARIO = Scenario(
    id="birth-control",
    title="pleasure was as fit as offspring, until contraception",
    card=__doc__ or "",
    expected=expected_row(
        "outer",
        "inner",
        "inner",
        "inner",
        "inner",
        split="robustness",
        safety="inner",
        shimi="inner",
    ),
    optimizers=("exhaustive",),
    run=run,
)
