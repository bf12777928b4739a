"""Wright–Fisher evolution against population-genetics facts and known optima."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from alignlens import diagnose, load_world, world_from_dict
from alignlens.optimizers.evolution import (
    DriveLocus,
    EvolutionConfig,
    _drive,
    evolution,
    make_train,
)
from alignlens.policies.enumerated import from_policies, observation_policies
from alignlens.policies.mixture import mixture_policy
from alignlens.policies.tabular import policy_from_mapping
from alignlens.solve import evaluate
from worlds import doors


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
    400 independent replicate populations it should fix in about half of them (± 4
    standard errors)."""
    config = EvolutionConfig(population=20, generations=300, selection=0.0, mutation=0.0)
    train = make_train(np.array([0.3, 0.7]), (2,), config)
    finals, history = train(0, replicates=400)
    assert finals.shape == (400, 20, 1) and history.shape == (400, 300, 20)
    start = history[:, 0, :]  # generation 1, close to the initial make-up
    final = finals[:, :, 0]
    fixed = np.all(final == final[:, :1], axis=1)
    assert fixed.mean() > 0.95
    zero_won = (final[:, 0] == 0) & fixed
    expected = (start == 0).mean()
    assert abs(zero_won.mean() - expected) < 4 * np.sqrt(0.25 / 400)


def test_mutation_rate_per_locus() -> None:
    # One generation from a single genotype with μ = 0.1 over 3 loci of 4 alleles: each
    # locus of each of 20,000 offspring differs from the parent with probability 0.1.
    config = EvolutionConfig(
        population=20_000, generations=1, selection=0.0, mutation=0.1, initial=0
    )
    finals, _ = make_train(np.zeros(64), (4, 4, 4), config)(1)
    changed = finals != 0
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


def test_replicates_are_independent_and_reproducible() -> None:
    # Replicate populations of one seed differ from each other; the same seed and number of
    # replicates give the same populations.
    config = EvolutionConfig(population=30, generations=10, selection=1.0, mutation=0.05)
    train = make_train(np.array([0.2, 0.5, 0.9]), (3,), config)
    a, history = train(3, replicates=5)
    b, _ = train(3, replicates=5)
    np.testing.assert_array_equal(a, b)
    assert len({row.tobytes() for row in history[:, -1]}) > 1


# --- a drive locus ----------------------------------------------------------------------


def deceiver_world():
    """The door world with two genotypes: an honest one that takes the exit (J^train_R = 1)
    and a deceiver that takes the red object "b" everywhere (J^train_R = 0)."""
    world = world_from_dict(doors())
    honest = policy_from_mapping(world, {"t0": "a", "d0": "a"}, name="honest")
    deceiver = policy_from_mapping(world, {"t0": "b", "d0": "b"}, name="deceiver")
    return world, from_policies("genotypes", [honest, deceiver])


# Selection β = 0.3 on fitness 1 against 0: a parent is the deceiver with probability
# p_s = p / (p + q e^β). With drive k, a rare deceiver grows by 2k / e^β = 1.41 a generation
# (k = 0.95), and a rare honest allele by 2(1 − k) e^β = 0.135: the deceiver fixes. Under
# fair transmission it shrinks by 1 / e^β a generation and is purged.
DRIVEN = EvolutionConfig(
    population=200, generations=100, selection=0.3, drive=DriveLocus(allele=1, k=0.95)
)


def test_drive_makes_a_costly_genotype_win_and_the_verdict_is_hacked_not_outer() -> None:
    world, cls = deceiver_world()
    result = evolution(world, cls, DRIVEN, seed=0)
    h = result.hack
    assert h is not None
    assert h.inner_objective > 0.95  # the deceiver's share
    assert h.inner_objective_at_optimum == 0.0  # the only optimum is honest
    assert h.counterfactual_regret is not None and h.counterfactual_regret < 0.05
    verdict = diagnose(world, result.policy, policy_class=cls, hack=h).verdicts["wentworth"]
    assert verdict.category == "hacked"
    fair = evolution(world, cls, replace(DRIVEN, drive=None), seed=0)
    assert fair.hack is None
    assert fair.trace.returns["train_base"][-1] == pytest.approx(1 - h.counterfactual_regret)


def test_drive_redraws_only_where_exactly_one_parent_carries_the_allele() -> None:
    mother = np.array([[1], [1], [0], [0]])
    father = np.array([[0], [1], [1], [0]])
    child = np.array([[0], [1], [0], [0]])  # what fair recombination drew
    always = _drive(DriveLocus(allele=1, k=1.0), child, mother, father, np.random.default_rng(0))
    never = _drive(DriveLocus(allele=1, k=0.0), child, mother, father, np.random.default_rng(0))
    assert always[:, 0].tolist() == [1, 1, 1, 0]
    assert never[:, 0].tolist() == [0, 1, 0, 0]
    assert child[:, 0].tolist() == [0, 1, 0, 0]  # the input is left as it was
