"""Outer alignment of a class that cannot be enumerated, estimated from independent runs.

A neural class has no finite list of members to search, so Opt(train, R) over it cannot be
computed. Independent training runs sample it instead: every run whose policy is fully
optimised in training and misaligned in deployment is a witness that outer alignment
fails (Wentworth's outer_W, docs/lenses.md). The returns are exact (policy evaluation of each
run's policy); only the choice of members is sampled.
"""

from __future__ import annotations

import numpy as np

from alignlens.analysis import OuterSample, WorldAnalysis
from alignlens.learned import Runs
from alignlens.solve.exact.many_policies import evaluate_many
from alignlens.world.model import World


def _regrets(
    world: World, runs: Runs, objectives: WorldAnalysis, env: str, objective: str
) -> tuple[float, ...]:
    tables = np.stack([r.policy.acting_in(env) for r in runs.results])
    values = evaluate_many(world.environment(env), world.objective(objective), tables)  # type: ignore[arg-type]
    return tuple(objectives.regret(env, objective, float(v)) for v in values)


def train_base_regrets(world: World, runs: Runs, objectives: WorldAnalysis) -> tuple[float, ...]:
    """reg^train_R of each run's policy."""
    return _regrets(world, runs, objectives, "train", "base")


def sample_outer(world: World, runs: Runs, objectives: WorldAnalysis) -> OuterSample:
    """Each run's training regret under R and deployment regret under U."""
    return OuterSample(
        policy_class=runs.policy_class,
        seeds=tuple(r.seed for r in runs.results),
        train_base_regret=train_base_regrets(world, runs, objectives),
        deploy_intended_regret=_regrets(world, runs, objectives, "deploy", "intended"),
    )
