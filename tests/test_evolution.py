"""Wright–Fisher evolution against population-genetics facts and known optima."""

from __future__ import annotations

import numpy as np
import pytest

from alignlens import diagnose, load_world
from alignlens.optimizers.evolution import EvolutionConfig, evolution, make_train
from alignlens.policies.enumerated import observation_policies
from alignlens.policies.mixture import mixture_policy
from alignlens.solve import evaluate


@pytest.fixture
def scans(examples):
    world = load_world(examples / "scans.toml")
    return world, observation_policies(world)


def test_strong_selection_finds_the_training_optimum(scans) -> None:
    # Two genotypes: say_healthy (J^train_R = 0.8) and say_sick (0.2); see scans.toml.
    world, cls = scans
    result = evolution(world, cls, EvolutionConfig(population=100, generations=30, selection=20.0))
    assert result.population is not None
    assert [cls.names(int(m)) for m in result.population.members] == ["scan→say_healthy"]
    assert diagnose(world, result.policy, policy_class=cls).analysis.regret.train_base == 0.0
    assert result.trace.returns["train_base"][-1] == pytest.approx(0.8)
    make_up = result.trace.make_up
    assert make_up is not None and make_up.shape == (30, 2)
    assert (make_up.sum(axis=1) == 100).all()
    assert make_up[-1, cls.index("scan→say_healthy")] == 100
    # The mean return of each generation is the make-up-weighted mean of the members' returns.
    assert result.trace.returns["train_base"][0] == pytest.approx(
        make_up[0]
        @ np.array([0.8 if cls.names(i).endswith("healthy") else 0.2 for i in range(2)])
        / 100
    )


def test_without_mutation_a_lone_genotype_stays(scans) -> None:
    # Everyone starts as the worse genotype and nothing mutates: nothing else can appear,
    # however long it runs (regret 1 in training).
    world, cls = scans
    worse = cls.index("scan→say_sick")
    config = EvolutionConfig(generations=20, mutation=0.0, initial=worse)
    result = evolution(world, cls, config)
    assert result.population is not None and result.population.members.tolist() == [worse]
    assert diagnose(world, result.policy, policy_class=cls).analysis.regret.train_base == 1.0


def test_neutral_fixation_probability_is_the_initial_frequency() -> None:
    """Without selection or mutation an allele fixes with probability equal to its initial
    frequency. From a uniformly random start of N = 20, allele 0 has frequency ~½, so over
    400 vmapped seeds it should fix in about half of them (± 4 standard errors)."""
    import jax

    config = EvolutionConfig(population=20, generations=300, selection=0.0, mutation=0.0)
    train = make_train(np.array([0.3, 0.7]), (2,), config)
    keys = jax.random.split(jax.random.PRNGKey(0), 400)
    finals, history = jax.jit(jax.vmap(train))(keys)
    start = np.asarray(history)[:, 0, :]  # generation 1, close to the initial make-up
    final = np.asarray(finals)[:, :, 0]
    fixed = np.all(final == final[:, :1], axis=1)
    assert fixed.mean() > 0.95
    zero_won = (final[:, 0] == 0) & fixed
    expected = (start == 0).mean()
    assert abs(zero_won.mean() - expected) < 4 * np.sqrt(0.25 / 400)


def test_mutation_rate_per_locus() -> None:
    # One generation from a single genotype with μ = 0.1 over 3 loci of 4 alleles: each
    # locus of each of 20,000 offspring differs from the parent with probability 0.1.
    import jax

    config = EvolutionConfig(
        population=20_000, generations=1, selection=0.0, mutation=0.1, initial=0
    )
    finals, _ = make_train(np.zeros(64), (4, 4, 4), config)(jax.random.PRNGKey(1))
    changed = np.asarray(finals) != 0
    se = np.sqrt(0.1 * 0.9 / changed.size)
    assert abs(changed.mean() - 0.1) < 4 * se


def test_the_population_acts_as_its_mixture(examples) -> None:
    world = load_world(examples / "forked-training.toml")
    cls = observation_policies(world)
    result = evolution(
        world,
        cls,
        EvolutionConfig(population=50, generations=3, selection=0.5, mutation=0.05),
        seed=2,
    )
    population = result.population
    assert population is not None
    members = [cls.member(int(i)) for i in population.members]
    weights = population.counts / population.counts.sum()
    for env in ("train", "deploy"):
        e = world.environment(env)
        want = sum(
            w * evaluate(e, world.base, m.acting_in(env)).value
            for w, m in zip(weights, members, strict=True)
        )
        assert evaluate(e, world.base, result.policy.acting_in(env)).value == pytest.approx(want)
    again = mixture_policy(world, members, population.counts.astype(float))
    np.testing.assert_allclose(again.train, result.policy.train)


def test_same_seed_same_population(scans) -> None:
    world, cls = scans
    config = EvolutionConfig(population=30, generations=10, selection=1.0, mutation=0.05)
    a, b = evolution(world, cls, config, seed=7), evolution(world, cls, config, seed=7)
    assert a.population is not None and b.population is not None
    assert a.population.counts.tolist() == b.population.counts.tolist()
    np.testing.assert_array_equal(a.trace.returns["train_base"], b.trace.returns["train_base"])
