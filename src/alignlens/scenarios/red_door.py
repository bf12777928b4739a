"""red-door — goal-directed planners, and an exit that was red in training.

The case (the thread's maze example of objective robustness): mazes whose exit is red
during training; in deployment the exit is blue and a red object stands elsewhere. The
policy class holds two goal-directed planners: one heads for red, one for the exit. In
training both reach the red exit by the same shortest path, so both are optimal.

Two variants (both run by exhaustive search over the planners):

Both pick the representative by the computed rule, the member of Opt(train, R) worst in
deployment under U: the red-seeker. The exit-seeker is the other optimum, aligned under
every lens; each run reports the verdicts of both.

red-door-proxy: R pays for reaching red (a proxy), U wants the exit.
- wentworth **outer**: optimal in training, misaligned in deployment.
- hubinger **outer**: even with deployment data R's optimum goes to red, and the policy
  is one of those optima.
- ngo **outer**: R, carried to deployment, rewards going to red.
- shah **inner**: in training every optimum reaches the exit.
- two_d **outer**: robust by R, but R is not outer aligned.
- wentworth_split **outer**: optimal in training, and R evaluated in deployment still
  rewards the misaligned behaviour (outer′ fails).
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **outer**: no optimum on the lifetime mixture is aligned: adamShimi's own
  example of an outer failure ("+1 for reaching red objects").

red-door-exit: R pays for the exit, as U does.
- wentworth **outer**: optimal in training, misaligned in deployment.
- hubinger **inner**: with deployment data only the exit-seeker is optimal.
- ngo **inner**: a planner competently pursues its own objective, reaching red.
- shah **inner**: in training every optimum reaches the exit.
- two_d **inner**: mesa-misalignment (with a neural policy instead of planners, the same
  behaviour is objective robustness: see red-door-exit-neural).
- wentworth_split **robustness**: optimal in training, and R evaluated in deployment
  rewards only aligned policies (outer′ holds): what fails is robustness.
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **inner**: some optimum on the lifetime mixture is aligned, and training
  produced a misaligned policy: adamShimi's own example of an inner failure ("the model
  could learn to just reach red objects").

World files: examples/red-door-proxy.toml, examples/red-door-exit.toml.
"""

from __future__ import annotations

from collections.abc import Callable

from alignlens.diagnosis import Diagnosis
from alignlens.policies.enumerated import from_policies
from alignlens.policies.planner import planner
from alignlens.policies.tabular import MesaObjective
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)


def runner(filename: str) -> Callable[[str, int], Diagnosis]:
    def run(optimizer: str, seed: int) -> Diagnosis:
        world = example_world(filename)
        planners = from_policies(
            "goal-directed planners",
            [planner(world, MesaObjective(g, world.goals[g])) for g in ("reach_red", "reach_exit")],
        )
        return diagnose_exhaustive(world, planners, optimizer, noun="planners")

    return run


PROXY = Scenario(
    id="red-door-proxy",
    title="R pays for red; in deployment red is not the exit",
    card=__doc__ or "",
    expected=expected_row(
        "outer", "outer", "outer", "inner", "outer", split="outer", safety="inner", shimi="outer"
    ),
    optimizers=("exhaustive",),
    run=runner("red-door-proxy.toml"),
)

EXIT = Scenario(
    id="red-door-exit",
    title="R pays for the exit; the planner that learned 'red' goes to red",
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
    run=runner("red-door-exit.toml"),
)
