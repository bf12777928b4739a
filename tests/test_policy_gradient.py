"""Exact-gradient softmax policy gradient: reaches a known optimum with budget, provably
stops short without it, is deterministic, and its trace is the exact return."""

from __future__ import annotations

import numpy as np
import pytest

from alignlens import diagnose, load_world, world_from_dict
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_many_worlds_at_once_equal_one_at_a_time_and_ignore_their_batch() -> None:
    """policy_gradient_many trains worlds of one shape in one vmapped call (successor slots
    padded with impossible ones): each result matches `policy_gradient` on its world alone,
    and a world's result is the same whichever other worlds share its call."""
    from alignlens.optimizers.policy_gradient import policy_gradient_many
    from alignlens.sweep.generator import WorldSpec, random_world

    spec = WorldSpec(states=6, actions=3, successors=3)
    worlds = [world_from_dict(random_world(spec, s)) for s in range(3)]
    config = PolicyGradientConfig(steps=30)
    together = policy_gradient_many(worlds, config, [10, 11, 12])
    for world, result, seed in zip(worlds, together, [10, 11, 12], strict=True):
        alone = policy_gradient(world, config, seed=seed)
        np.testing.assert_allclose(result.policy.train, alone.policy.train, atol=1e-9)
        np.testing.assert_allclose(
            result.trace.returns["train_base"], alone.trace.returns["train_base"], atol=1e-9
        )
    (second,) = policy_gradient_many(worlds[1:2], config, [11])
    np.testing.assert_array_equal(second.policy.train, together[1].policy.train)
