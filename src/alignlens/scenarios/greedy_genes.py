"""greedy-genes — a driving allele wins its own transmission and lowers mean fitness.

The case (the essay's "greedy genes"; meiotic drive, as in the t-haplotype of mice): one
locus, alleles + and D, random mating; fitness of ++, +D, DD is 1, 1 − hs, 1 − s, and a
heterozygote transmits D with probability k > ½. Evolution, the outer optimiser,
maximises mean fitness w̄ (optimum 1: every individual ++). The driver is an inner
optimiser whose own objective is its frequency, and it exploits the imperfect search:
Mendelian transmission is the channel through which it steers evolution.

Parameters: k = 0.8, s = 0.4, h = 0.3 (`--set k=…` and so on), so λ₀ = 2k(1 − hs) = 1.408
> 1 (D invades) and 2(1 − k)(1 − hs) = 0.352 < 1 − s = 0.6 (fixation is stable): the
driver goes to fixation and w̄ falls to 1 − s = 0.6. A Wright–Fisher population of
N = 500 diploids starts at p = 0.05 and runs 100 generations; the counterfactual runs
the same population under fair meiosis (k = ½), which purges D.

The population is the policy that "chooses" each genotype at its Hardy–Weinberg
frequency (examples/greedy-genes.toml): J_R = w̄, and the goal "transmission" (the
driver's objective, declared as the population's mesa-objective) returns p.

Optimiser: evolution with meiotic drive (default); exhaustive search, which has no
transmission to exploit, picks ++ and is aligned.

Expected verdicts and why:
- wentworth **hacked**: the population is not fully optimised (w̄ < 1), the driver's
  objective is higher than at every training optimum (where its frequency is 0), and
  fair meiosis clears the failure.
- hubinger **inner**: the population is no optimum of R on its lifetime's data, though
  every infinite-data optimum is aligned.
- ngo **inner**: an inner optimiser competently pursues its own objective, transmission.
- shah **inner**: the reward incentivises the right genotype on the training distribution.
- two_d **inner**: a mesa-optimiser's objective, not the reward, is at fault.
- wentworth_split **hacked**: not fully optimised, and the inner optimiser steered the
  search, as under wentworth.
- shah_safety **outer**: already bad in training, so not useful.
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy.

World file: examples/greedy-genes.toml.
"""

from __future__ import annotations

import numpy as np

from alignlens.demons.evidence import hack_evidence
from alignlens.demons.meiotic_drive import (
    Drive,
    evolve_with_drive,
    hardy_weinberg,
    locus_world,
)
from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.scenarios.scenario import Scenario, diagnose_exhaustive, expected_row
from alignlens.world import World, world_from_dict

START = 0.05
POPULATION = 500
GENERATIONS = 100


def population_policy(world: World, p: float, name: str) -> TabularPolicy:
    """The population at D-frequency p: each genotype at its Hardy–Weinberg frequency,
    pursuing the driver's objective (transmission)."""
    table = np.zeros((world.n_states, world.n_actions))
    table[world.states.index("zygote")] = hardy_weinberg(p)
    table[world.states.index("adult")] = 1.0 / len(world.actions)
    mesa = MesaObjective("transmission", world.goals["transmission"], "the driving allele")
    return TabularPolicy(name, table, table, mesa)


DEFAULT = Drive()


def run(
    optimizer: str, seed: int, k: float = DEFAULT.k, s: float = DEFAULT.s, h: float = DEFAULT.h
) -> Diagnosis:
    drive = Drive(k=k, s=s, h=h)
    world = world_from_dict(locus_world(drive), source="greedy-genes")
    if optimizer == "exhaustive":
        return diagnose_exhaustive(world, None, optimizer)
    evolved = evolve_with_drive(drive, START, POPULATION, GENERATIONS, seed)
    policy = population_policy(
        world, float(evolved.path[-1]), f"population after {GENERATIONS} generations"
    )
    fair = population_policy(world, float(evolved.fair_path[-1]), "under fair meiosis")
    evidence = hack_evidence(world, policy, fair, "transmission", f"meiotic drive (k = {k:g})")
    return diagnose(world, policy, optimizer=optimizer, hack=evidence, demon=evolved)


SCENARIO = Scenario(
    id="greedy-genes",
    title="a driving allele wins its own transmission and lowers mean fitness",
    card=__doc__ or "",
    expected=expected_row(
        "hacked", "inner", "inner", "inner", "inner", split="hacked", safety="outer", shimi="inner"
    ),
    optimizers=("evolution", "exhaustive"),
    run=run,
    parameters={"k": DEFAULT.k, "s": DEFAULT.s, "h": DEFAULT.h},
)
