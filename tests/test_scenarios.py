"""Conformance of every registered scenario: its DESIGN §4 row, determinism, its card, its
world file; and the scenario-specific facts worked by hand."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from typer.testing import CliRunner

from alignlens.cli import app
from alignlens.errors import AlignlensError
from alignlens.lenses.shares import pieces_notation
from alignlens.report.document import document_of
from alignlens.scenarios import run_scenario, scenarios
from alignlens.world.examples import examples_dir

CATALOGUE = scenarios()


@pytest.mark.parametrize("scenario_id", list(CATALOGUE))
def test_default_run_gives_the_design_row(scenario_id: str, tour_runs) -> None:
    runs, _ = tour_runs  # run_scenario(scenario_id) with seed 0, shared with the tour tests
    (run,) = [r for r in runs if r.scenario.id == scenario_id]
    assert (run.seed, run.optimizer) == (0, CATALOGUE[scenario_id].default_optimizer)
    got = {name: str(v.category) for name, v in run.diagnosis.verdicts.items()}
    assert got == dict(CATALOGUE[scenario_id].expected)
    analysis = run.diagnosis.analysis
    if analysis.outer_sample is not None:  # neural: the sampled witnesses, and their premises
        tol = analysis.tolerances
        witnesses = analysis.outer_sample.witnesses(tol.epsilon, tol.tau)
        # A policy that went to the misaligned goal after full optimisation is a witness,
        # and a witness lies in the superclass's Opt(train, R): exact outer_W must fail.
        assert witnesses, "the scenario's runs found no witness"
        assert run.diagnosis.verdicts["wentworth"].conditions["outer_W"].holds is False


@pytest.mark.slow
@pytest.mark.parametrize("scenario_id", list(CATALOGUE))
def test_same_seed_same_document(scenario_id: str, tour_runs) -> None:
    """A fresh run with seed 0 repeats the session's first one (made earlier, by the tour)."""
    runs, _ = tour_runs
    (first,) = [r for r in runs if r.scenario.id == scenario_id]
    a = document_of(first.diagnosis)
    b = document_of(run_scenario(scenario_id, seed=0).diagnosis)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.mark.parametrize("scenario_id", list(CATALOGUE))
def test_card_names_the_expected_verdicts_and_the_world_file(scenario_id: str) -> None:
    scenario = CATALOGUE[scenario_id]
    for lens, category in scenario.expected.items():
        assert f"{lens} **{category}**" in scenario.card, (lens, category)
    files = [w for w in scenario.card.split() if w.startswith("examples/")]
    assert files and all(
        (examples_dir() / f.removeprefix("examples/").rstrip(".,")).exists() for f in files
    )


def test_mri_critical_share() -> None:
    """Always-healthy earns (1 − λ)·0.8 + λ·0.3 = 0.8 − 0.5λ, always-sick 0.2 + 0.5λ: they tie
    at λ* = 0.6, and only above it is the infinite-data optimum (always-sick) aligned."""
    run = run_scenario("mri")
    shares = run.diagnosis.analysis.objectives.outer_aligned_shares
    assert shares.notation() == "(0.6, 1]"
    assert not shares.contains(0.6) and shares.contains(0.600001) and not shares.contains(0.5)


def _by_share(runs, scenario_id: str) -> dict[str, str]:
    (run,) = [r for r in runs if r.scenario.id == scenario_id]
    return {lens: pieces_notation(p) for lens, p in run.diagnosis.by_share().items()}


def test_the_threads_exchanges_under_hubingers_lens(tour_runs) -> None:
    """Known answers from the thread, for every deployment share λ.

    - deception (Hubinger: a deceptive model defects on some data point of its lifetime):
      the deceptive planner is optimal in training but not on any mixture with λ > 0, so
      it is never an optimum of its lifetime's data: INNER for every λ > 0. At λ = 0 the
      model never meets deployment and training is its whole lifetime: OUTER there only.
    - lava-ird (IRD's lava: R pays +100 for lava it never saw): Shah calls it INNER (the
      reward is fine on the training distribution) and Hubinger OUTER at every λ (R's
      optimum walks into lava wherever lava is in the data, and the policy is one).
    - mri: Hubinger's verdict flips at λ* = 0.6 (the MRI exchange; worked in
      test_enumerated.py)."""
    runs, _ = tour_runs
    deception = _by_share(runs, "deception")
    assert deception["hubinger"] == "outer for λ ∈ {0}, inner for λ ∈ (0, 1]"
    lava = _by_share(runs, "lava-ird")
    assert lava["hubinger"] == "outer for λ ∈ [0, 1]"
    assert lava["shah"] == "inner for λ ∈ [0, 1]"
    mri = _by_share(runs, "mri")
    assert mri == {**mri, **CATALOGUE["mri"].expected_by_share}


def test_birth_control_is_outer_for_some_optimal_genotypes_and_not_others(tour_runs) -> None:
    """The essay's claim quantifies over all of Opt(train, R). Worked by hand: in the
    ancestral world sex always risks offspring, so every genotype that wants pleasure or
    offspring (3 of the 4; not the one with both weights 0) is optimal; in the modern
    world only the pleasure-only genotype takes the contraceptive. So Wentworth's lens
    says outer for 1 of the 3 and aligned for 2. Re-derived member by member here, each
    diagnosed on its own."""
    from alignlens import diagnose
    from alignlens.scenarios.genotypes import PLEASURE_DRIVEN, genotypes
    from alignlens.scenarios.scenario import example_world

    runs, _ = tour_runs
    (run,) = [r for r in runs if r.scenario.id == "birth-control"]
    over = run.diagnosis.over_optimal
    assert over is not None and over.members == 3
    assert dict(over.counts["wentworth"]) == {"outer": 1, "aligned": 2}
    assert over.notation("wentworth") == "aligned for 2 of 3 optimal genotypes, outer for 1"
    world = example_world("birth-control.toml")
    humans = genotypes(world)
    alone = [diagnose(world, i, policy_class=humans) for i in range(humans.size)]
    optimal = [d for d in alone if d.analysis.regret.train_base <= 1e-6]
    assert len(optimal) == 3
    outer = [d.analysis.policy for d in optimal if d.verdicts["wentworth"].category == "outer"]
    assert outer == [PLEASURE_DRIVEN] == [run.diagnosis.analysis.policy]
    for lens in over.counts:
        counted = Counter(str(d.verdicts[lens].category) for d in optimal)
        assert dict(over.counts[lens]) == dict(counted), lens
    # The computed representative is named; a declared tie-break stays available.
    assert over.rule == "the member of Opt(train, R) worst in deployment under U"
    from alignlens.scenarios.scenario import diagnose_exhaustive

    kind = diagnose_exhaustive(world, humans, "exhaustive", tie_break="best-deployment")
    assert {str(v.category) for v in kind.verdicts.values()} == {"aligned"}
    assert kind.over_optimal.rule.endswith("(declared)")
    assert kind.over_optimal.counts == over.counts


def test_a_large_optimal_set_reports_its_best_and_worst_member(monkeypatch) -> None:
    """Over the member limit, an enumerated class's Opt(train, R) is not diagnosed member by
    member: its best and worst member in deployment under U are, and named as such (in
    birth-control, an offspring-driven genotype, aligned, and the pleasure-driven one)."""
    import alignlens.verdict_range as verdict_range

    monkeypatch.setattr(verdict_range, "MEMBER_LIMIT", 2)
    over = run_scenario("birth-control").diagnosis.over_optimal
    assert over is not None and over.members is None
    assert dict(over.by_member["wentworth"]) == {"the worst member": "outer", "the best": "aligned"}
    assert over.notation("wentworth") == "outer (the worst member), aligned (the best)"


def test_lava_correct_under_perfect_search_spans_aligned_and_outer(tour_runs) -> None:
    """The Q-learner's world under exhaustive search over the tabular class: Opt(train, R)
    (no lava in training) holds members that walk through deployment's lava and members
    that avoid it, so the member worst in deployment is outer and the best is aligned;
    their deployment regrets are the two ends of the optimal set's range."""
    _, perfect = tour_runs
    (run,) = [r for r in perfect if r.scenario.id == "lava-correct"]
    over = run.diagnosis.over_optimal
    assert over is not None and over.members is None
    assert dict(over.by_member["wentworth"]) == {"the worst member": "outer", "the best": "aligned"}
    analysis = run.diagnosis.analysis
    spread = analysis.over("train_base", "deploy_intended_regret")
    assert analysis.regret.deploy_intended == pytest.approx(spread.max, abs=1e-9)
    assert spread.min <= analysis.tolerances.tau < spread.max


def test_unknown_scenario_and_optimizer_are_clear_errors() -> None:
    with pytest.raises(AlignlensError, match="unknown scenario"):
        run_scenario("unicorn")
    with pytest.raises(AlignlensError, match="does not run with"):
        run_scenario("virus", "q-learning")
    result = CliRunner().invoke(app, ["run", "unicorn"])
    assert result.exit_code == 2 and "unknown scenario" in result.output


def test_run_and_scenarios_commands() -> None:
    listing = CliRunner().invoke(app, ["scenarios"])
    assert listing.exit_code == 0 and all(s in listing.output for s in CATALOGUE)
    result = CliRunner().invoke(app, ["run", "lava-ird", "--json", "--seed", "2"])
    doc = json.loads(result.stdout)
    assert doc["scenario"] == "lava-ird" and doc["seed"] == 2 and doc["optimizer"] == "exhaustive"
    assert {k: v["category"] for k, v in doc["verdicts"].items()} == doc["expected"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_evolution_keeps_masturbation_and_exhaustive_search_removes_it(seed: int) -> None:
    evolved = run_scenario("masturbation", "evolution", seed=seed).diagnosis.analysis
    assert evolved.regret.train_base > evolved.tolerances.epsilon
    perfect = run_scenario("masturbation", "exhaustive").diagnosis
    assert perfect.analysis.regret.train_base == 0.0
    assert {str(v.category) for v in perfect.verdicts.values()} == {"aligned"}


def test_birth_control_fails_under_perfect_search_too() -> None:
    run = run_scenario("birth-control", "exhaustive")
    assert run.diagnosis.analysis.regret.train_base == 0.0
    assert str(run.diagnosis.verdicts["wentworth"].category) == "outer"


def test_the_documented_table_is_the_registry() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| ")]
    documented = {
        cells[0].strip(): [c.strip().replace(" ", "_") for c in cells[2:]] for cells in rows[1:]
    }
    assert documented == {s.id: list(s.expected.values()) for s in CATALOGUE.values()}
