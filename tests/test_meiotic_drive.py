"""Meiotic drive against the analytic population genetics of one driving locus.

Each analytic result (invasion, stability of fixation, the internal equilibrium, the
establishment probability) is checked against the recursion itself or against
Wright–Fisher simulation, a second and independent method.
"""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from alignlens import load_world, world_from_dict
from alignlens.cli import app
from alignlens.demons.meiotic_drive import Drive, locus_world, recursion, wright_fisher
from alignlens.scenarios import run_scenario
from alignlens.scenarios.greedy_genes import population_policy
from alignlens.solve import evaluate
from alignlens.world.examples import examples_dir

# s avoids 2(1 − k)(1 − hs) = 1 − s exactly (e.g. k = 0.7, h = 0, s = 0.4), where fixation is
# neutral to first order and the analytic test does not decide.
GRID = [
    Drive(k, s, h)
    for k, s, h in itertools.product((0.5, 0.6, 0.7, 0.9), (0.1, 0.45, 0.6, 0.9), (0.0, 0.1, 0.3))
]
POLYMORPHIC = Drive(k=0.7, s=0.6, h=0.1)


@pytest.mark.parametrize("drive", GRID, ids=str)
def test_invasion_iff_lambda0_above_one(drive: Drive) -> None:
    """A rare driver grows by the factor λ₀ = 2k(1 − hs) per generation (to first order)."""
    p = 1e-7
    growth = drive.next_frequency(p) / p
    assert growth == pytest.approx(drive.invasion_rate, rel=1e-5)
    assert (drive.next_frequency(p) > p) == (drive.invasion_rate > 1)


@pytest.mark.parametrize("drive", GRID, ids=str)
def test_fixation_stable_iff_the_analytic_condition(drive: Drive) -> None:
    """Near fixation, + (frequency 1 − p) shrinks iff 2(1 − k)(1 − hs) < 1 − s."""
    q = 1e-7
    shrinks = 1.0 - drive.next_frequency(1.0 - q) < q
    assert shrinks == drive.fixation_stable


def test_internal_equilibrium_is_a_fixed_point_and_attracts() -> None:
    """k = 0.7, s = 0.6, h = 0.1: λ₀ = 1.4 · 0.94 = 1.316 > 1 and 2 · 0.3 · 0.94 = 0.564 >
    0.4 = 1 − s, so both boundaries are unstable; p̂ = 0.316 / (0.6 · 0.8) = 0.658333…"""
    p_hat = POLYMORPHIC.internal_equilibrium
    assert p_hat == pytest.approx(0.316 / 0.48, abs=1e-12)
    assert POLYMORPHIC.next_frequency(p_hat) == pytest.approx(p_hat, abs=1e-12)
    for p0 in (0.01, 0.5, 0.99):
        assert recursion(POLYMORPHIC, p0, 2000)[-1] == pytest.approx(p_hat, abs=1e-9)


def test_no_internal_equilibrium_when_a_boundary_is_stable() -> None:
    assert Drive(0.5, 0.4, 0.3).internal_equilibrium is None  # fair meiosis: D is purged
    assert Drive(0.9, 0.4, 0.3).internal_equilibrium is None  # fixation is stable


def test_default_driver_fixes_and_lowers_mean_fitness_and_fair_meiosis_purges_it() -> None:
    drive = Drive()
    assert drive.invasion_rate > 1 and drive.fixation_stable
    path = recursion(drive, 0.05, 400)
    assert path[-1] == pytest.approx(1.0, abs=1e-9)
    assert drive.mean_fitness(path[-1]) == pytest.approx(1.0 - drive.s, abs=1e-9)
    assert np.all(np.diff(drive.mean_fitness(path)) <= 1e-15)  # every step lowers w̄
    assert recursion(drive.fair(), 0.05, 400)[-1] < 1e-6


def test_large_population_tracks_the_recursion() -> None:
    """N = 10^6: the sampling noise of a frequency is about √(p q / 2N) ≈ 5e-4 a generation."""
    drive = Drive()
    paths = wright_fisher(drive, 0.05, 1_000_000, 40, replicates=4, seed=0)
    exact = recursion(drive, 0.05, 40)
    assert np.max(np.abs(paths - exact)) < 0.02


def test_establishment_probability_solves_its_equation_and_matches_simulation() -> None:
    """π solves 1 − π = exp(−λ₀π) (λ₀ = 1.316 → π ≈ 0.438). Wright–Fisher with N = 500 from
    one copy: the driver is established when it is still present after 300 generations (it
    then sits near p̂ ≈ 0.66, from which loss at N = 500 is negligible). The branching
    approximation is for large N, so the comparison allows 0.02 beside 4.5 standard errors."""
    pi = POLYMORPHIC.establishment_probability
    assert 1.0 - pi == pytest.approx(math.exp(-POLYMORPHIC.invasion_rate * pi), abs=1e-12)
    assert pi == pytest.approx(0.438, abs=0.001)
    replicates = 20_000
    paths = wright_fisher(POLYMORPHIC, 1 / 1000, 500, 300, replicates=replicates, seed=1)
    established = paths[:, -1] > 0
    assert np.all(np.abs(paths[established, -1] - POLYMORPHIC.internal_equilibrium) < 0.15)
    share = established.mean()
    se = math.sqrt(pi * (1 - pi) / replicates)
    assert abs(share - pi) <= 4.5 * se + 0.02, (share, pi)


def test_same_seed_same_paths() -> None:
    a = wright_fisher(Drive(), 0.05, 500, 20, replicates=3, seed=7)
    b = wright_fisher(Drive(), 0.05, 500, 20, replicates=3, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0], a[1])


# --- the greedy-genes scenario ----------------------------------------------------------


def test_population_policy_returns_mean_fitness_and_frequency() -> None:
    """Exact evaluation of the Hardy–Weinberg policy against the analytic w̄ and p."""
    drive = Drive()
    world = world_from_dict(locus_world(drive))
    for p in (0.0, 0.2, 0.5, 0.93, 1.0):
        table = population_policy(world, p, "p").train
        train = world.environment("train")
        assert evaluate(train, world.base, table).value == pytest.approx(drive.mean_fitness(p))
        assert evaluate(train, world.goals["transmission"], table).value == pytest.approx(p)


def test_the_world_file_is_the_default_locus() -> None:
    shipped = load_world(examples_dir() / "greedy-genes.toml")
    built = world_from_dict(locus_world(Drive()))
    assert shipped.states == built.states and shipped.actions == built.actions
    np.testing.assert_allclose(shipped.base, built.base, atol=1e-12)
    np.testing.assert_allclose(shipped.goals["transmission"], built.goals["transmission"])


def run_json(*args: str) -> dict:
    result = CliRunner().invoke(app, ["run", "greedy-genes", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_default_driver_is_hacked_with_the_counterfactual_in_the_conditions() -> None:
    """k = 0.8, s = 0.4, h = 0.3: D fixes (p = 1, w̄ = 0.6, regret 1); its frequency at the
    only training optimum (all ++) is 0; under fair meiosis the same population loses D
    (regret 0 ≤ ½), so the evidence holds."""
    doc = run_json()
    w = doc["verdicts"]["wentworth"]
    assert w["category"] == "hacked"
    assert doc["regret"]["train"]["base"] == pytest.approx(1.0)
    assert w["conditions"]["counterfactual_regret"] == {
        "holds": True,
        "value": 0.0,
        "threshold": 0.5,
        "comparison": "<=",
    }
    assert w["conditions"]["hack_evidence"]["value"] == pytest.approx(1.0)
    assert doc["hack"]["inner_objective_at_optimum"] == 0.0
    assert doc["parameters"] == {"k": 0.8, "s": 0.4, "h": 0.3}


def test_polymorphic_driver_sits_at_the_internal_equilibrium() -> None:
    """k = 0.7, s = 0.6, h = 0.1: the population hovers near p̂ ≈ 0.658, so w̄ < 1 (hacked)
    while the driver's competence at its own objective is p ≈ 0.66 < κ: no competent
    mesa-optimiser, so Ngo calls it robustness."""
    doc = run_json("--set", "k=0.7", "--set", "s=0.6", "--set", "h=0.1")
    assert doc["verdicts"]["wentworth"]["category"] == "hacked"
    assert doc["mesa"]["competence"] == pytest.approx(POLYMORPHIC.internal_equilibrium, abs=0.1)
    assert doc["verdicts"]["ngo"]["category"] == "robustness"


def test_purged_driver_leaves_an_aligned_population() -> None:
    """k = 0.6, s = 0.4, h = 0.5: λ₀ = 1.2 · 0.8 = 0.96 < 1, so D cannot invade."""
    assert Drive(0.6, 0.4, 0.5).invasion_rate < 1
    doc = run_json("--set", "k=0.6", "--set", "s=0.4", "--set", "h=0.5")
    assert {v["category"] for v in doc["verdicts"].values()} == {"aligned"}


def test_exhaustive_search_has_no_transmission_to_exploit() -> None:
    run = run_scenario("greedy-genes", "exhaustive")
    assert {str(v.category) for v in run.diagnosis.verdicts.values()} == {"aligned"}


@pytest.mark.parametrize(
    ("scenario", "args", "field"),
    [
        ("greedy-genes", ["--set", "k=1.5"], "k"),
        ("virus", ["--set", "k=0.7"], "--set"),
        ("greedy-genes", ["--set", "k"], "--set"),
    ],
)
def test_bad_drive_parameters_are_clear_errors(scenario: str, args: list, field: str) -> None:
    result = CliRunner().invoke(app, ["run", scenario, *args])
    assert result.exit_code == 2
    assert field in result.output and "Fix:" in result.output
    assert "Traceback" not in result.output
