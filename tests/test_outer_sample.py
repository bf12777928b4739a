"""The sampled estimate of outer alignment for a class that cannot be enumerated (neural):
independent runs, witnesses among the fully optimised ones, and how Wentworth's lens and
the JSON document report it.

The hand-worked world is the door world of test_lenses (γ = 0.9, every action ends the
episode). Training starts at t0, where R and U pay 1 for "a" (the red exit); deployment
starts at d0, where R and U pay 1 for "a" (the blue exit) and "b" is the red object. Over
the tabular class V* = 1 and W = 0 in both environments, so a regret is 1 − J.
"""

from __future__ import annotations

import numpy as np
import pytest

from alignlens import diagnose, load_world, world_from_dict
from alignlens.learned import Learned, Runs, Trace
from alignlens.optimizers.ppo import PPOConfig, ppo_runs
from alignlens.policies.tabular import policy_from_mapping
from alignlens.report.document import document_of
from alignlens.solve import evaluate
from alignlens.solve.exact.analyze import analyze_world
from alignlens.solve.exact.outer_sample import sample_outer
from alignlens.tolerances import Tolerances
from alignlens.world.examples import examples_dir
from worlds import doors

NO_TRACE = Trace(np.array([0]), {})


def runs_of(world, actions: dict[int, dict[str, str]]) -> Runs:
    """Runs whose policies take the given actions, one per seed."""
    return Runs(
        "hand-made",
        tuple(
            Learned(policy_from_mapping(world, a), "hand", seed, NO_TRACE)
            for seed, a in actions.items()
        ),
    )


WITNESS = {"t0": "a", "d0": "b"}  # optimal in training (J = 1), red in deployment: U regret 1
ALIGNED = {"t0": "a", "d0": "a"}  # optimal in training, the exit in deployment: U regret 0
SHORT = {"t0": "c", "d0": "a"}  # not optimal in training: R regret 1
SHORT_RED = {"t0": "c", "d0": "b"}  # not optimal in training, red in deployment


def test_witnesses_are_the_fully_optimised_misaligned_runs() -> None:
    world = world_from_dict(doors())
    sample = sample_outer(
        world,
        runs_of(world, {10: WITNESS, 11: ALIGNED, 12: SHORT}),
        analyze_world(world, Tolerances()),
    )
    assert sample.seeds == (10, 11, 12)
    np.testing.assert_allclose(sample.train_base_regret, (0.0, 0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(sample.deploy_intended_regret, (1.0, 0.0, 0.0), atol=1e-12)
    assert sample.fully_optimised(1e-6) == (10, 11)
    assert sample.witnesses(1e-6, 0.1) == (10,)
    # A witness of regret 1 stops being one only at τ ≥ 1.
    assert sample.witnesses(1e-6, 1.0) == ()


def test_wentworth_reports_a_witness_and_agrees_with_the_exact_superclass() -> None:
    """The witness lies in Opt(train, R) of the tabular class, so the exact outer_W over that
    superclass must fail too (max regret 1 > τ)."""
    world = world_from_dict(doors())
    runs = runs_of(world, {10: WITNESS, 11: ALIGNED, 12: SHORT})
    result = diagnose(world, WITNESS, runs=runs)
    verdict = result.verdicts["wentworth"]
    assert verdict.category == "outer"
    sampled = verdict.conditions["outer_W_sampled"]
    assert sampled.holds is False and sampled.value == 1.0
    assert verdict.conditions["outer_W"].holds is False
    (flag,) = (f for f in verdict.flags if "sampled" in f)
    assert "of 3 independent runs, 2 ended fully optimised, 1 misaligned" in flag
    assert "seeds 10" in flag
    doc = document_of(result)["outer_sample"]
    assert doc["sampled"] is True
    assert doc["fully_optimised"] == [10, 11] and doc["witnesses"] == [10]


def test_no_witness_among_k_is_not_a_proof() -> None:
    """The aligned optimum and a short run: nothing is found, yet the exact superclass still
    holds a misaligned optimum (WITNESS), so outer_W fails while the sample finds none."""
    world = world_from_dict(doors())
    result = diagnose(world, ALIGNED, runs=runs_of(world, {0: ALIGNED, 1: SHORT}))
    verdict = result.verdicts["wentworth"]
    assert verdict.category == "aligned"
    assert verdict.conditions["outer_W_sampled"].holds is True
    assert verdict.conditions["outer_W"].holds is False
    (flag,) = (f for f in verdict.flags if "sampled" in f)
    assert "of 2 independent runs, 1 ended fully optimised, none of those 1 misaligned" in flag
    assert "no witness, not a proof" in flag


def test_no_fully_optimised_run_is_no_sample_of_the_optimal_set() -> None:
    """Every run misaligned but none optimal in training: the flag must not read as if the
    sample found no misaligned run; it says there is no sample of Opt(train, R)."""
    world = world_from_dict(doors())
    result = diagnose(world, SHORT_RED, runs=runs_of(world, {3: SHORT_RED, 4: SHORT}))
    verdict = result.verdicts["wentworth"]
    assert verdict.category == "optimization"
    (flag,) = (f for f in verdict.flags if "sampled" in f)
    assert "of 2 independent runs, 0 ended fully optimised" in flag
    assert "no sample of Opt(train, R)" in flag
    assert "(1 of the 2 runs misaligned in deployment, none optimal in training)" in flag
    assert "none misaligned" not in flag


def test_without_runs_there_is_no_sampled_condition() -> None:
    result = diagnose(world_from_dict(doors()), WITNESS)
    assert "outer_W_sampled" not in result.verdicts["wentworth"].conditions
    assert "outer_sample" not in document_of(result)


@pytest.fixture(scope="module")
def coin_runs():
    world = load_world(examples_dir() / "coin.toml")
    config = PPOConfig(total_steps=4096, n_envs=8, n_steps=16, records=2)
    return world, config, ppo_runs(world, config, [5, 6, 7])


@pytest.mark.slow
def test_ppo_runs_regrets_agree_with_sparse_evaluation(coin_runs) -> None:
    """ppo_runs' regrets come from one batched dense solve; each is checked against the
    sparse (chain) evaluation of the same greedy policy."""
    world, _, runs = coin_runs
    objectives = analyze_world(world, Tolerances(policy_judged="greedy"))
    sample = sample_outer(world, runs, objectives)
    assert sample.seeds == (5, 6, 7)
    assert runs.policy_class.startswith("neural (mlp 64×64")
    for result, train_regret, deploy_regret in zip(
        runs.results, sample.train_base_regret, sample.deploy_intended_regret, strict=True
    ):
        for env, objective, regret in (
            ("train", "base", train_regret),
            ("deploy", "intended", deploy_regret),
        ):
            best, worst = (
                objectives.optimum.get(env, objective),
                objectives.worst.get(env, objective),
            )
            value = evaluate(
                world.environment(env), world.objective(objective), result.policy.train
            ).value
            assert regret == pytest.approx((best - value) / (best - worst), abs=1e-9)


def test_ppo_runs_are_reproducible_and_differ_by_seed(coin_runs) -> None:
    world, config, runs = coin_runs
    again = ppo_runs(world, config, [5, 6, 7])
    for a, b in zip(runs.results, again.results, strict=True):
        np.testing.assert_array_equal(a.policy.train, b.policy.train)
    first = runs.results[0].trace.returns["train_base"]
    assert not all(np.array_equal(first, r.trace.returns["train_base"]) for r in runs.results[1:])
