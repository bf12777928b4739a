"""masturbation — a small waste that weak selection keeps and perfect selection removes.

The case (the essay's "true inner alignment failure"): the same human genotypes, in the
ancestral environment only (deployment is ancestral too). Solo sex wastes a little
fitness (0.98 against 1) and gives a little more pleasure (1.05 against 1), so
pleasure-driven planners choose it. Evolution starts from pleasure-driven ancestors; with
a finite population (N = 100), weak selection (fitness differences of 0.02 at selection
strength 1, so N·s ≈ 2) and rare mutation, 30 generations do not remove them. The
population acts as a mixture policy; its failing members are planners whose own objective
(pleasure) the failing behaviour serves.

Optimiser: evolution (default); exhaustive search removes the failure entirely.

Expected verdicts and why:
- wentworth **optimization**: every training optimum is aligned (outer alignment holds),
  so the failure exists only because the population is not fully optimised.
- hubinger **inner**: the population is no optimum of R on its lifetime's data, though every
  infinite-data optimum is aligned.
- ngo **inner**: its members are planners competently pursuing pleasure, not fitness.
- shah **inner**: the reward incentivises the right behaviour on the training distribution.
- two_d **inner**: a mesa-optimiser's objective, not the reward, is at fault.
- wentworth_split **optimization**: not fully optimised, as under wentworth.
- shah_safety **outer**: already bad in training, so not useful.
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy.

World file: examples/masturbation.toml.
"""

from __future__ import annotations

from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.optimizers.evolution import EvolutionConfig, evolution
from alignlens.scenarios.genotypes import PLEASURE_DRIVEN, genotypes
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)

CONFIG = EvolutionConfig(population=100, generations=30, selection=1.0, mutation=1e-3)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = example_world("masturbation.toml")
    humans = genotypes(world)
    if optimizer == "exhaustive":
        return diagnose_exhaustive(world, humans, optimizer, noun="genotypes")
    config = EvolutionConfig(**{**CONFIG.__dict__, "initial": humans.index(PLEASURE_DRIVEN)})
    population = evolution(world, humans, config, seed=seed)
    return diagnose(
        world,
        population.policy,
        policy_class=humans,
        optimizer=optimizer,
        trace=population.trace,
    )


SCENARIO = Scenario(
    id="masturbation",
    title="a small waste that weak selection keeps and perfect selection removes",
    card=__doc__ or "",
    expected=expected_row(
        "optimization",
        "inner",
        "inner",
        "inner",
        "inner",
        split="optimization",
        safety="outer",
        shimi="inner",
    ),
    optimizers=("evolution", "exhaustive"),
    run=run,
)
