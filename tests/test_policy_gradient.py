"""Exact-gradient softmax policy gradient: reaches a known optimum with budget, provably
stops short without it, is deterministic, and its trace is the exact return."""

from __future__ import annotations

import numpy as np
import pytest

from alignlens import diagnose, load_world
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient


def test_enough_budget_reaches_the_known_optimum(examples) -> None:
    # forked-training: V*_R = 0.9 in training (a or b at s0, then a or b); worked in
    # tests/test_extremes.py. With Adam at step 1 for 2000 steps the regret falls below ε.
    world = load_world(examples / "forked-training.toml")
    result = policy_gradient(world, PolicyGradientConfig(steps=2000, learning_rate=1.0))
    analysis = diagnose(world, result.policy).analysis
    assert analysis.regret.train_base <= 1e-6
    assert analysis.returns.train_base == pytest.approx(0.9, abs=1e-6)
    # The trace is the exact return of the policy after each step.
    assert result.trace.returns["train_base"][-1] == pytest.approx(analysis.returns.train_base)
    assert result.trace.returns["deploy_intended"][-1] == pytest.approx(
        analysis.returns.deploy_intended
    )
    regrets = result.trace.regrets(analysis.objectives)
    assert regrets["train_base"][-1] == pytest.approx(analysis.regret.train_base, abs=1e-12)
    assert regrets["train_base"][0] > regrets["train_base"][-1]


def test_a_small_budget_provably_stops_short(examples) -> None:
    """two-doors: J = π(left) = sigmoid(θ_left − θ_right), whose gradient in each logit is at
    most ¼. Three SGD steps of size 0.01 from θ = 0 move the logit gap by at most
    3 · 0.01 · (¼ + ¼) = 0.015, so π(left) ≤ sigmoid(0.015) < 0.504: regret > 0.49."""
    world = load_world(examples / "two-doors.toml")
    config = PolicyGradientConfig(steps=3, learning_rate=0.01, method="sgd")
    result = policy_gradient(world, config)
    assert diagnose(world, result.policy).analysis.regret.train_base > 0.49


def test_same_seed_same_numbers(examples) -> None:
    world = load_world(examples / "lava.toml")
    config = PolicyGradientConfig(steps=50, init_scale=1.0)
    a, b = policy_gradient(world, config, seed=3), policy_gradient(world, config, seed=3)
    c = policy_gradient(world, config, seed=4)
    np.testing.assert_array_equal(a.policy.train, b.policy.train)
    assert not np.array_equal(a.policy.train, c.policy.train)
    assert a.seed == 3 and a.optimizer == "policy-gradient"


def test_mixture_over_an_enumerated_class(examples) -> None:
    """scans, the two classifiers (J^train_R = 0.8 and 0.2): gradient ascent on the mixture
    weight concentrates it on say_healthy; the mixture's exact return is the weighted mean,
    and the trace ends there."""
    from alignlens.policies.enumerated import observation_policies

    world = load_world(examples / "scans.toml")
    cls = observation_policies(world)
    result = policy_gradient(
        world, PolicyGradientConfig(steps=2000, learning_rate=1.0), policy_class=cls
    )
    analysis = diagnose(world, result.policy, policy_class=cls).analysis
    assert analysis.regret.train_base <= 1e-6
    assert result.trace.returns["train_base"][-1] == pytest.approx(analysis.returns.train_base)
    short = policy_gradient(
        world, PolicyGradientConfig(steps=1, learning_rate=0.01, method="sgd"), policy_class=cls
    )
    # One step of 0.01 from equal weights: the weight on say_healthy is at most
    # sigmoid(2 · 0.01 · 0.15) ≈ 0.5015, so J ≤ 0.2 + 0.6 · 0.5015 < 0.51: regret > 0.48.
    assert diagnose(world, short.policy, policy_class=cls).analysis.regret.train_base > 0.48
