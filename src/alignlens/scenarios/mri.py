"""mri — a classifier that sees the scan, not the label, under shifting base rates.

The case (the essay's author's objection to "infinite data"): healthy and sick patients
give scans the classifier cannot tell apart, and sickness is 20% of the training data but
70% of deployment. The policy class acts on observations, so the same scan gets the same
answer. Infinite data does not fix it: the infinite-data optimum says "healthy" to
everyone unless deployment makes up more than the critical share λ* = 0.6 of the data
(always-healthy earns 0.8 − 0.5λ, always-sick 0.2 + 0.5λ).

Optimiser: exhaustive search over the observation policies (default), or gradient
descent on a logistic regression trained on 1,000 training samples.

Expected verdicts and why (λ = ½ < λ*):
- wentworth **outer**: "always healthy" is optimal in training and misaligned.
- hubinger **outer**: at λ = ½ the infinite-data optimum is "always healthy", and the
  learned classifier is that optimum: the objective is at fault, as the essay's author
  says of this definition in the thread (it "will classify generalization error as an
  outer alignment error"). For λ > λ* the infinite-data optimum is "always sick", which is
  aligned, and the classifier, trained on training data, no longer maximises the
  objective on its lifetime's data: **inner**. So: outer for λ ∈ [0, 0.6], inner for
  λ ∈ (0.6, 1].
- ngo **robustness**: R in deployment does not reward it; no mesa-optimiser.
- shah **inner**: on the training distribution the reward's optimum is the best possible.
- two_d **outer** for λ ∈ [0, 0.6] (as Hubinger's lens), **capability_robustness** above
  λ*: no goal is pursued competently in deployment.
- wentworth_split **robustness**: optimal in training, and R evaluated in deployment
  rewards only aligned policies (outer′ holds): what fails is robustness.
- shah_safety **inner**: good in training (useful), catastrophic in deployment (its
  regret under U is above χ).
- shimi **outer** for λ < 0.6: no optimum on the lifetime mixture is aligned; from
  λ = 0.6 itself, where both classifiers are optimal, **inner** (hubinger turns at the
  same λ*, but only above it: at λ* not every optimum is aligned).

World file: examples/scans.toml.
"""

from __future__ import annotations

from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.optimizers.gradient_descent import GradientDescentConfig, gradient_descent
from alignlens.policies.enumerated import observation_policies
from alignlens.scenarios.scenario import (
    Scenario,
    diagnose_exhaustive,
    example_world,
    expected_row,
)

CRITICAL_SHARE = 0.6


def run(optimizer: str, seed: int) -> Diagnosis:
    world = example_world("scans.toml")
    classifiers = observation_policies(world, name="classifiers")
    if optimizer == "gradient-descent":
        trained = gradient_descent(world, GradientDescentConfig(data=1000), seed=seed)
        return diagnose(
            world,
            trained.policy,
            policy_class=classifiers,
            optimizer=optimizer,
            trace=trained.trace,
        )
    return diagnose_exhaustive(world, classifiers, optimizer, noun="classifiers")


SCENARIO = Scenario(
    id="mri",
    title="scans that look alike, base rates that shift, and the critical λ",
    card=__doc__ or "",
    expected=expected_row(
        "outer",
        "outer",
        "robustness",
        "inner",
        "outer",
        split="robustness",
        safety="inner",
        shimi="outer",
    ),
    expected_by_share={
        "hubinger": "outer for λ ∈ [0, 0.6], inner for λ ∈ (0.6, 1]",
        "two_d": "outer for λ ∈ [0, 0.6], capability_robustness for λ ∈ (0.6, 1]",
        # At λ* = 0.6 itself both classifiers are optimal: one is aligned, so some optimum
        # is (shimi: inner) while not every one is (hubinger: outer).
        "shimi": "outer for λ ∈ [0, 0.6), inner for λ ∈ [0.6, 1]",
    },
    optimizers=("exhaustive", "gradient-descent"),
    run=run,
)
