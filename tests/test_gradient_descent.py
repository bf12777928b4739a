"""Logistic regression by gradient descent on the scans classifier (examples/scans.toml).

Healthy and sick patients look alike; a healthy patient is labelled say_healthy, a sick
one say_sick. With infinite data drawn with deployment share λ, the expected loss is
minimised by predicting the majority label of the mixture: healthy is the majority when
(1 − λ)·0.8 + λ·0.3 > ½, i.e. λ < 0.6 — the critical λ of the file's comment.
"""

from __future__ import annotations

import numpy as np
import pytest

from alignlens import diagnose, load_world
from alignlens.errors import AlignlensError
from alignlens.optimizers.gradient_descent import GradientDescentConfig, gradient_descent
from alignlens.policies.enumerated import observation_policies


@pytest.mark.parametrize(("share", "prediction"), [(0.0, 0), (0.5, 0), (0.7, 1), (1.0, 1)])
def test_infinite_data_predicts_the_majority_label(examples, share, prediction) -> None:
    world = load_world(examples / "scans.toml")
    result = gradient_descent(world, GradientDescentConfig(data=None, deploy_share=share))
    healthy = world.states.index("healthy")
    assert result.policy.train[healthy].tolist() == np.eye(2)[prediction].tolist()


def test_enough_budget_reaches_the_class_optimum(examples) -> None:
    # Trained on training data only, the classifier is the optimum of the observation class
    # in training (say_healthy, J = 0.8); the trace ends at its exact return.
    world = load_world(examples / "scans.toml")
    result = gradient_descent(world, GradientDescentConfig(data=None))
    analysis = diagnose(world, result.policy, policy_class=observation_policies(world)).analysis
    assert analysis.regret.train_base == 0.0
    assert result.trace.returns["train_base"][-1] == pytest.approx(0.8)


def test_no_budget_is_the_uniform_guess(examples) -> None:
    # Zero steps leave the weights at zero: both labels equally likely, J^train_R = ½.
    world = load_world(examples / "scans.toml")
    result = gradient_descent(world, GradientDescentConfig(steps=0))
    analysis = diagnose(world, result.policy, policy_class="tabular").analysis
    assert analysis.returns.train_base == pytest.approx(0.5)


def test_finite_data_can_mislead(examples) -> None:
    # One sample: with probability 0.2 it is a sick patient, and the classifier then says
    # sick to everyone. Over 200 seeds the fraction is 0.2 within 4 standard errors.
    world = load_world(examples / "scans.toml")
    healthy = world.states.index("healthy")
    config = GradientDescentConfig(data=1, steps=100, trace_every=100)
    sick = [gradient_descent(world, config, seed=s).policy.train[healthy][1] for s in range(200)]
    assert abs(np.mean(sick) - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 200)


def test_longer_episodes_are_refused(examples) -> None:
    with pytest.raises(AlignlensError, match="contextual bandit"):
        gradient_descent(load_world(examples / "lava.toml"))
