"""lava-ird — a reward that was never exercised in training pays for walking into lava.

The case (inverse reward design, raised in the thread as the distributional problem the
essay calls outer): training maps have no lava, so the designer's reward for lava (+100,
an oversight) never mattered; we actually hate lava (U gives it −100). In deployment a
lava pool lies beside the path, and the learned policy walks into it whenever it can.

Optimiser: exhaustive search over the tabular class; among the training optima the
representative is the one worst in deployment under U. The run also reports the verdicts
of the best one.

Expected verdicts and why:
- wentworth **outer**: the policy is optimal in training and misaligned in deployment.
- hubinger **outer**: even with deployment data, R's optimum walks into the lava, and the
  policy is one of those optima.
- ngo **outer**: R, carried to deployment, rewards the bad behaviour.
- shah **inner**: on the training maps every optimum behaves well (there is no lava).
- two_d **outer**: robust by R in deployment, but R is not outer aligned.
- wentworth_split **outer**: optimal in training, and R evaluated in deployment still
  rewards the misaligned behaviour (outer′ fails).
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **outer**: no optimum on the lifetime mixture is aligned.

World file: examples/lava-ird.toml.
"""

from __future__ import annotations

from alignlens.diagnosis import Diagnosis
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = example_world("lava-ird.toml")
    return diagnose_exhaustive(world, None, optimizer)


SCENARIO = Scenario(
    id="lava-ird",
    title="a never-exercised reward for lava is collected in deployment",
    card=__doc__ or "",
    expected=expected_row(
        "outer", "outer", "outer", "inner", "outer", split="outer", safety="inner", shimi="outer"
    ),
    optimizers=("exhaustive",),
    run=run,
)
