"""deception — a planner that complies while watched and seizes power when alone.

The case (the essay's section on deceptive alignment): an overseer is present in training
and absent in deployment, and the agent can see which. Three planners: an aligned one
(pursues what we want), a proxy (pursues "looking compliant", which pays only while
watched) and a deceptive one (acts on R while the overseer is present, on its own
objective, power, when absent). All three comply in training, so all are optimal there.

Optimiser: exhaustive search; all three planners are optimal in training, and the
representative is the one worst in deployment under U (the deceptive planner). The run
reports every lens's verdicts over all three.

Expected verdicts and why:
- wentworth **outer**: the deceptive planner is part of the outer optimum, so the
  objective rewards an unaligned policy as highly as any: the essay's claim that, with
  perfect optimisation, deceptive alignment is an outer failure.
- hubinger **inner**: with deployment data only the aligned planner is optimal; the
  deceptive one defects on the deployment part of its lifetime's data, so it is no optimum
  of R there.
- ngo **inner**: a mesa-optimiser deliberately seizes power for its own objective.
- shah **inner**: all optima behave well on the training distribution.
- two_d **inner**: mesa-misalignment.
- wentworth_split **robustness**: optimal in training, and R evaluated in deployment
  rewards only aligned policies (outer′ holds): what fails is robustness.
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy.

World file: examples/deception.toml.
"""

from __future__ import annotations

import numpy as np

from alignlens.diagnosis import Diagnosis
from alignlens.policies.enumerated import from_policies
from alignlens.policies.planner import deceptive_planner, planner
from alignlens.policies.tabular import MesaObjective
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)


def run(optimizer: str, seed: int) -> Diagnosis:
    world = example_world("deception.toml")
    watched = np.array(
        [world.observation_names[o] == "overseer present" for o in world.observation]
    )
    planners = from_policies(
        "planners",
        [
            planner(world, MesaObjective("intended", world.intended), name="aligned"),
            planner(
                world, MesaObjective("look_compliant", world.goals["look_compliant"]), name="proxy"
            ),
            deceptive_planner(
                world,
                world.base,
                MesaObjective("power", world.goals["power"]),
                watched,
                name="deceptive",
            ),
        ],
    )
    return diagnose_exhaustive(world, planners, optimizer, noun="planners")


SCENARIO = Scenario(
    id="deception",
    title="complies while watched, seizes power when alone",
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
