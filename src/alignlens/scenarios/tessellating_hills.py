"""tessellating-hills — a demon in the loss landscape stalls gradient descent.

The case (the essay's "demons in imperfect search", after DaemonicSigil's toy model): a
loss L(x) = −x₀ + ε Σ_j x_j splotch_j(x) over x ∈ R^17 whose small ripples (ε = 0.0025)
are flat while the demon coordinates x_j are 0. A noisy normalised gradient descent
(η = 0.2, 5,000 steps, from x = 0) walks down x₀ at first; then some x_j grow by feeding
on the ripples, and the structure they form tilts every later step away from x₀. The
demon is an inner optimiser that exploits the imperfect (local, noisy) search; the ideal
search walks straight down x₀. The counterfactual is the same run with ε = 0.

The search's end behaviour is read as a policy (examples/tessellating-hills.toml): per
unit of motion in the last quarter of the run it "descends" with probability f (the x₀
it gained relative to the ideal ηT/4) and "holds" (motion the demon diverts) otherwise.
R = U pay for descending; the demon's objective, declared as the search's
mesa-objective, is the share it holds. With landscape seed 0, f ≈ 0.03.

Optimiser: gradient descent (default; 8 landscapes, seeds seed…seed + 7, run at once
with their counterfactuals, and the first is diagnosed); exhaustive search descends and
is aligned. Every landscape of seeds 0–15 produced a demon (some x_j beyond six noise
standard deviations, late progress below half the ideal, the counterfactual at ideal);
in 14 of the 16 the demon holds at least κ = 0.9 of the search.

Expected verdicts and why:
- wentworth **hacked**: the search stalls far short of the ideal, the demon holds more of
  it than at the training optimum (where it holds nothing), and with ε = 0 it does not
  stall.
- hubinger **inner**: the search ends at no optimum of R, though every optimum is aligned.
- ngo **inner**: an inner optimiser (the demon) competently pursues its own objective.
- shah **inner**: the objective incentivises descent on the training distribution.
- two_d **inner**: a mesa-optimiser's objective, not the reward, is at fault.

World file: examples/tessellating-hills.toml.
"""

from __future__ import annotations

import functools

import numpy as np

from alignlens.demons.evidence import hack_evidence
from alignlens.demons.tessellating_hills import Hills, run_hills, search_world
from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.report.figures import hills_figure
from alignlens.scenarios.registry import Scenario, diagnose_exhaustive, expected_row
from alignlens.world import World, world_from_dict

HILLS = Hills()
LANDSCAPES = 8


def search_policy(world: World, progress: float, name: str) -> TabularPolicy:
    """The search that descends with probability ``progress`` (clipped to [0, 1]),
    carrying the demon's objective as its mesa-objective."""
    f = float(np.clip(progress, 0.0, 1.0))
    table = np.full((world.n_states, world.n_actions), 0.5)
    table[world.states.index("search")] = (f, 1.0 - f)
    mesa = MesaObjective("demon", world.goals["demon"], "the demon in the loss landscape")
    return TabularPolicy(name, table, table, mesa)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = world_from_dict(search_world(), source="tessellating-hills")
    if optimizer == "exhaustive":
        return diagnose_exhaustive(world, None, optimizer)
    runs = run_hills(HILLS, tuple(range(seed, seed + LANDSCAPES)))
    policy = search_policy(
        world, runs.late_progress[0], f"descent on landscape {seed} ({HILLS.steps} steps)"
    )
    fair = search_policy(world, runs.fair_late_progress[0], "descent with ε = 0")
    grown = float(runs.grown[0].max())
    evidence = hack_evidence(
        world, policy, fair, "demon", f"demon (a coordinate grew to |x_j| = {grown:.0f})"
    )
    figures = {"the demon against ε = 0": functools.partial(hills_figure, runs)}
    return diagnose(world, policy, optimizer=optimizer, hack=evidence, figures=figures)


SCENARIO = Scenario(
    id="tessellating-hills",
    title="a demon in the loss landscape stalls gradient descent",
    card=__doc__ or "",
    expected=expected_row("hacked", "inner", "inner", "inner", "inner"),
    optimizers=("gradient-descent", "exhaustive"),
    run=run,
)
