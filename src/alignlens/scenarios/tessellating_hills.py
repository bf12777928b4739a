"""tessellating-hills — a demon in the loss landscape stalls gradient descent.

The case (the essay's "demons in imperfect search", after DaemonicSigil's toy model): a
loss L(x) = −x₀ + ε Σ_j x_j splotch_j(x) over x ∈ R^17 whose small ripples (ε = 0.0025)
are flat while the demon coordinates x_j are 0. A noisy normalised gradient descent
(η = 0.2, 5,000 steps, from x = 0) walks down x₀ at first; then some x_j grow by feeding
on the ripples, and the structure they form tilts every later step away from x₀. The
demon is an inner optimiser that exploits the imperfect (local, noisy) search; the ideal
search walks straight down x₀. The counterfactual removes only the demon's channel: the
same landscape and noise, with the gradient's components along the demon's coordinates
dropped, so the search no longer feeds them.

The search's end behaviour is read as a policy (examples/tessellating-hills.toml): per
step of the last quarter of the run it "descends" with probability f (the x₀ it gained
relative to the ideal ηT/4), is "held" with probability (1 − f)·c, where c is the share
of steps on which the ripples' pull outweighed the slope's (the demon steered), and
"drifts" otherwise. R = U pay for descending; the demon's objective, held by the demon
within the search, pays for the steps it holds. It is measured from the gradient, not
from R: a search that stalls without a demon gives it nothing. With landscape seed 0,
f ≈ 0.03 and c ≈ 0.99.

Optimiser: gradient descent (default; 8 landscapes, seeds seed…seed + 7, run at once
with their counterfactuals, and the first is diagnosed); exhaustive search descends and
is aligned. Every landscape of seeds 0–15 produced a demon (some x_j beyond six noise
standard deviations, late progress below half the ideal, the counterfactual at ideal);
in 12 of the 16 the demon holds at least κ = 0.9 of the search (in seeds 2, 3, 9 and 11 it
holds 0.90, 0.88, 0.44 and 0.88, just short or, in 9, far short; Ngo's lens calls those
robustness).

Expected verdicts and why:
- wentworth **hacked**: the search stalls far short of the ideal; the demon's channel grew
  (its largest coordinate, about 34, is beyond the six standard deviations, 20.6, that
  noise gives it at any training optimum); and with the channel removed it does not
  stall.
- hubinger **inner**: the search ends at no optimum of R, though every optimum is aligned.
- ngo **inner**: an inner optimiser (the demon) competently pursues its own objective.
- shah **inner**: the objective incentivises descent on the training distribution.
- two_d **inner**: a mesa-optimiser's objective, not the reward, is at fault.
- wentworth_split **hacked**: not fully optimised, and the inner optimiser steered the
  search, as under wentworth.
- shah_safety **outer**: already bad in training, so not useful.
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy.

World file: examples/tessellating-hills.toml.
"""

from __future__ import annotations

import numpy as np

from alignlens.demons.evidence import measured_hack_evidence
from alignlens.demons.tessellating_hills import Hills, run_hills, search_world
from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.scenarios.scenario import Scenario, diagnose_exhaustive, expected_row
from alignlens.world import World, world_from_dict

HILLS = Hills()
LANDSCAPES = 8


def search_policy(world: World, progress: float, steered: float, name: str) -> TabularPolicy:
    """The search that descends with probability f = ``progress`` (clipped to [0, 1]), is
    held by the demon with (1 − f)·c (c = ``steered``, the share of steps the ripples
    steered) and drifts otherwise; the demon, not the search, holds the objective "demon"."""
    f = float(np.clip(progress, 0.0, 1.0))
    table = np.full((world.n_states, world.n_actions), 1.0 / world.n_actions)
    table[world.states.index("search")] = (f, (1.0 - f) * steered, (1.0 - f) * (1.0 - steered))
    mesa = MesaObjective("demon", world.goals["demon"], "the demon in the loss landscape")
    return TabularPolicy(name, table, table, mesa)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = world_from_dict(search_world(), source="tessellating-hills")
    if optimizer == "exhaustive":
        return diagnose_exhaustive(world, None, optimizer)
    runs = run_hills(HILLS, tuple(range(seed, seed + LANDSCAPES)))
    policy = search_policy(
        world,
        runs.late_progress[0],
        runs.steered[0],
        f"descent on landscape {seed} ({HILLS.steps} steps)",
    )
    fair = search_policy(
        world, runs.fair_late_progress[0], runs.steered_fair[0], "descent without the channel"
    )
    grown = float(runs.grown[0].max())
    # The demon's own objective is the growth of its channel, |x_j|: at every training
    # optimum (a search that walks straight down x₀) only noise moves x_j, within six of
    # its standard deviations.
    evidence = measured_hack_evidence(
        world,
        fair,
        f"demon (a coordinate grew to |x_j| = {grown:.0f}; noise alone: {runs.noise_bound:.1f})",
        grown,
        runs.noise_bound,
    )
    return diagnose(world, policy, optimizer=optimizer, hack=evidence, demon=runs)


SCENARIO = Scenario(
    id="tessellating-hills",
    title="a demon in the loss landscape stalls gradient descent",
    card=__doc__ or "",
    expected=expected_row(
        "hacked", "inner", "inner", "inner", "inner", split="hacked", safety="outer", shimi="inner"
    ),
    optimizers=("gradient-descent", "exhaustive"),
    run=run,
)
