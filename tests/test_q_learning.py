"""Tabular Q-learning: reaches the known training optimum with budget, stops short
without it, leaves unvisited states untouched, and is deterministic in its seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from alignlens import diagnose, load_world
from alignlens.optimizers.q_learning import QLearningConfig, q_learning

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def lava() -> tuple:
    world = load_world(EXAMPLES / "lava.toml")
    return world, q_learning(world, QLearningConfig(steps=50_000), seed=1)


def test_enough_budget_reaches_the_training_optimum(lava) -> None:
    # The lava training level's optimum (8 steps, worked in tests/test_gridworld.py) is
    # deterministic, so 50,000 sampled steps settle the greedy policy on it.
    world, result = lava
    analysis = diagnose(world, result.policy).analysis
    assert analysis.regret.train_base <= 1e-6
    assert result.trace.returns["train_base"][-1] == pytest.approx(analysis.returns.train_base)


def test_unvisited_states_keep_their_initial_values(lava) -> None:
    """The deployment levels are never visited in training, so every action there keeps
    Q = initial value and the greedy policy is uniform: the Q-learner that never saw the
    new lava walks into it (deployment regret well above τ), as the thread describes. R = U,
    so R in deployment rewards only aligned policies (wentworth_split: robustness); good in
    training, catastrophic in deployment (shah_safety: inner); deployment data makes the
    mixture's optima aligned (shimi: inner)."""
    world, result = lava
    deploy_only = world.deploy.present & ~world.train.present & ~world.deploy.terminal
    np.testing.assert_allclose(result.policy.deploy[deploy_only], 0.25)
    verdicts = diagnose(world, result.policy).verdicts
    assert {k: str(v.category) for k, v in verdicts.items()} == {
        "wentworth": "outer",
        "hubinger": "inner",
        "ngo": "robustness",
        "shah": "inner",
        "two_d": "capability_robustness",
        "wentworth_split": "robustness",
        "shah_safety": "inner",
        "shimi": "inner",
    }


def test_a_small_budget_stops_short(examples) -> None:
    """Five steps: the goal is at least 8 steps from the start and each episode starts
    there, so no goal reward ever enters Q. Q holds step costs only (≤ 0), the greedy policy
    prefers untried actions, and it is uniform at every state it never left: far from the
    shortest path's return."""
    world = load_world(examples / "lava.toml")
    result = q_learning(world, QLearningConfig(steps=5, trace_every=5))
    assert diagnose(world, result.policy).analysis.regret.train_base > 0.1


def test_same_seed_same_numbers(examples) -> None:
    world = load_world(examples / "two-doors.toml")
    config = QLearningConfig(steps=200, trace_every=100, exploration=0.5)
    a, b = q_learning(world, config, seed=5), q_learning(world, config, seed=5)
    np.testing.assert_array_equal(a.policy.train, b.policy.train)
    np.testing.assert_array_equal(a.trace.returns["train_base"], b.trace.returns["train_base"])
    assert list(a.trace.step) == [100, 200]
