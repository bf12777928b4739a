"""The optimiser interface: ``Optimizer(config)(world, key) -> Learned`` is each
optimiser's own function, called with the key as its seed; the same key gives the same
policy and trace."""

from __future__ import annotations

import numpy as np
import pytest

from alignlens.learned import Learned
from alignlens.optimizers.evolution import EvolutionConfig, evolution
from alignlens.optimizers.exhaustive import exhaustive
from alignlens.optimizers.gradient_descent import GradientDescentConfig, gradient_descent
from alignlens.optimizers.optimizer import (
    Evolution,
    Exhaustive,
    ExhaustiveConfig,
    GradientDescent,
    Optimizer,
    PolicyGradient,
    QLearning,
)
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, policy_gradient
from alignlens.optimizers.q_learning import QLearningConfig, q_learning
from alignlens.policies.enumerated import observation_policies
from alignlens.scenarios.genotypes import genotypes
from alignlens.world import load_world


def same(a: Learned, b: Learned) -> None:
    """The same policy (both tables) and the same trace, bit for bit."""
    assert a.optimizer == b.optimizer and a.seed == b.seed
    np.testing.assert_array_equal(a.policy.train, b.policy.train)
    np.testing.assert_array_equal(a.policy.deploy, b.policy.deploy)
    assert (a.trace is None) == (b.trace is None)
    if a.trace is not None and b.trace is not None:
        np.testing.assert_array_equal(a.trace.step, b.trace.step)
        assert a.trace.returns.keys() == b.trace.returns.keys()
        for key, values in a.trace.returns.items():
            np.testing.assert_array_equal(values, b.trace.returns[key])


def cases(examples):
    forked = load_world(examples / "forked-training.toml")
    scans = load_world(examples / "scans.toml")
    lava = load_world(examples / "lava.toml")
    humans_world = load_world(examples / "masturbation.toml")
    humans = genotypes(humans_world)
    pg = PolicyGradientConfig(steps=50)
    gd = GradientDescentConfig(steps=100)
    ql = QLearningConfig(steps=2000, trace_every=500)
    ev = EvolutionConfig(population=20, generations=5)
    return [
        (PolicyGradient(pg), forked, lambda key: policy_gradient(forked, pg, seed=key)),
        (GradientDescent(gd), scans, lambda key: gradient_descent(scans, gd, seed=key)),
        (QLearning(ql), lava, lambda key: q_learning(lava, ql, seed=key)),
        (
            Evolution(humans, ev),
            humans_world,
            lambda key: evolution(humans_world, humans, ev, seed=key),
        ),
    ]


@pytest.mark.parametrize("index", range(4))
def test_each_optimizer_is_its_function_with_the_key_as_seed(examples, index: int) -> None:
    optimizer, world, function = cases(examples)[index]
    assert isinstance(optimizer, Optimizer)
    learned = optimizer(world, 3)
    assert learned.optimizer == optimizer.name
    same(learned, function(3))
    same(optimizer(world, 3), learned)  # the same key, the same numbers


def test_exhaustive_search_learns_its_representative_and_keeps_the_search(examples) -> None:
    world = load_world(examples / "scans.toml")
    classifiers = observation_policies(world, name="classifiers")
    for policy_class in (None, classifiers):
        optimizer = Exhaustive(ExhaustiveConfig("worst-deployment"), policy_class)
        assert isinstance(optimizer, Optimizer)
        learned = optimizer(world, 7)
        direct = exhaustive(world, policy_class, tie_break="worst-deployment")
        assert learned.trace is None and learned.seed == 7 and learned.search is not None
        np.testing.assert_array_equal(learned.policy.train, direct.policy.train)
        assert learned.search.objectives == direct.objectives


@pytest.mark.slow
def test_ppo_is_its_function_with_the_key_as_seed(examples) -> None:
    from alignlens.optimizers.ppo import PPO, PPOConfig, ppo

    world = load_world(examples / "coin.toml")
    config = PPOConfig(total_steps=2048, n_envs=8, n_steps=16, records=1)
    optimizer = PPO(config)
    assert isinstance(optimizer, Optimizer)
    same(optimizer(world, 5), ppo(world, config, seed=5))
