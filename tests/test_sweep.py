"""Sweeps: the world generator, the claims over many random worlds, the SQLite store (with
an interrupted sweep killed by SIGKILL and resumed), export, report and the CLI."""

from __future__ import annotations

import csv
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter, deque

import pytest
from typer.testing import CliRunner

from alignlens import world_from_dict
from alignlens.cli import app
from alignlens.errors import AlignlensError
from alignlens.lenses import lens_names
from alignlens.sweep.generator import WorldSpec, random_world
from alignlens.sweep.runner import run_sweep
from alignlens.sweep.store import open_store
from worlds import dense_model, unchecked

SMALL = WorldSpec(states=6, actions=3)
ALIASED = WorldSpec(states=6, actions=3, shift="aliased", extra=2)


def reachable(world_dict: dict, env: str) -> set[str]:
    """States reachable from the start of ``env``, by breadth-first search over the dict."""
    edges: dict[str, set[str]] = {}
    for s, _, nxt, p in world_dict[env]["transitions"]:
        if p > 0:
            edges.setdefault(s, set()).add(nxt)
    seen, todo = set(world_dict[env]["start"]), deque(world_dict[env]["start"])
    while todo:
        for nxt in edges.get(todo.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.slow
def test_generator_is_deterministic_and_each_shift_is_what_it_says() -> None:
    assert random_world(WorldSpec(), 3) == random_world(WorldSpec(), 3)
    assert random_world(WorldSpec(), 3) != random_world(WorldSpec(), 4)
    for seed in range(20):
        start = random_world(WorldSpec(shift="start"), seed)
        assert start["train"]["transitions"] == start["deploy"]["transitions"]
        extra = random_world(WorldSpec(shift="deploy-states", extra=2), seed)
        assert set(extra["deploy"]["start"]) <= {"d0", "d1"}
        assert not reachable(extra, "train") & {"d0", "d1"}  # training never visits them
        moved = random_world(WorldSpec(shift="dynamics"), seed)
        assert moved["train"]["transitions"] != moved["deploy"]["transitions"]
        aliased = random_world(ALIASED, seed)
        shared = [f"s{i}" for i in range(ALIASED.states)]
        seen = aliased["observations"]
        assert [seen[s] for s in shared] == shared
        assert len({seen["d0"], seen["d1"]}) == 2 and {seen["d0"], seen["d1"]} <= set(shared)
        assert set(aliased["deploy"]["start"]) <= {"d0", "d1"}
        assert not reachable(aliased, "train") & {"d0", "d1"}
        for d in (start, extra, moved, aliased):
            world_from_dict(d)  # valid worlds


def test_bad_world_parameters_name_the_field() -> None:
    with pytest.raises(AlignlensError, match="shift"):
        unchecked(WorldSpec, shift="sideways")
    with pytest.raises(AlignlensError, match="discount"):
        WorldSpec(discount=1.0)
    with pytest.raises(AlignlensError, match=r"4 \*\* 16 = 4,294,967,296 members") as e:
        WorldSpec(shift="aliased")  # 16 states, 4 actions: too many observation policies
    assert e.value.field == "states"
    with pytest.raises(AlignlensError, match="twin") as e:
        WorldSpec(states=3, actions=2, shift="aliased", extra=4)
    assert e.value.field == "extra"


@pytest.mark.slow
@pytest.mark.parametrize("shift", ["start", "deploy-states", "dynamics"])
def test_claims_hold_on_the_stored_rows_of_each_shift(tmp_path, shift: str) -> None:
    summary = run_sweep(WorldSpec(shift=shift), 60, 0, str(tmp_path / "s.db"))
    claims = summary["claims"]
    assert [claims[c]["violations"] for c in ("1", "2", "3")] == [0, 0, 0]
    assert summary["worlds"] == 60
    for counts in summary["verdicts"].values():
        assert sum(counts.values()) == 60
    if shift == "start":  # U = R half of the time: the premises of claims 1–2 occur
        assert claims["1"]["checked"] > 5 and claims["2"]["checked"] > 5


@pytest.mark.slow
@pytest.mark.parametrize("shift", ["start", "deploy-states", "dynamics"])
def test_claims_hold_on_a_thousand_random_worlds_of_each_shift(shift: str) -> None:
    """Claims 1–3 on 3,000 worlds in all, diagnosed by the batched path (the few it leaves
    to the per-world path are skipped here; the rows test covers them)."""
    from alignlens.diagnosis import diagnoses_many
    from alignlens.solve.batched.analyze import numbers_many
    from alignlens.sweep.claims import claims
    from alignlens.sweep.generator import random_batch
    from alignlens.tolerances import Tolerances

    spec = WorldSpec(states=8, actions=3, shift=shift)
    stacked = random_batch(spec, range(1000)).stacked()
    numbers = numbers_many(stacked, Tolerances())
    diagnoses = diagnoses_many(stacked.names, numbers, Tolerances(), policy="p", optimizer="e")
    settled = [d for d in diagnoses if d is not None]
    rows = [claims(d) for d in settled]
    assert len(rows) > 950
    # The perfect optimiser's pick is always in Opt(train, R).
    assert all(d.verdicts["wentworth"].conditions["full_opt"].holds for d in settled)
    for claim in ("1", "2", "3"):
        assert sum(r[f"claim{claim}_violated"] for r in rows) == 0
    assert sum(r["claim1_checked"] for r in rows) > 10  # premises occur (U = R half the time)


@pytest.mark.slow
def test_aliased_worlds_optima_and_policy_by_brute_force(tmp_path) -> None:
    """The class of an aliased world is every map observation → action: brute force over
    the 3^6 maps (returns by the tests' own dense solves) gives the class optima and worst
    values, and the exhaustive optimiser's pick is optimal in training and acts in each
    deployment-only state as in its twin."""
    run_sweep(ALIASED, 8, 0, str(tmp_path / "s.db"))
    with open_store(tmp_path / "s.db") as results:
        rows = results.rows()
    for row in rows:
        world = random_world(ALIASED, row["world_seed"])
        model = dense_model(world)
        # the state whose observation each state shows (shared states come first)
        shows = [model.states.index(world["observations"][s]) for s in model.states]
        maps = itertools.product(range(ALIASED.actions), repeat=ALIASED.states)
        policies = [
            tuple(0 if model.terminal[s] else m[shows[s]] for s in range(len(shows))) for m in maps
        ]
        document = row["document"]
        for env, objective in itertools.product(("train", "deploy"), ("base", "intended")):
            j = [model.returns(env, objective, p) for p in policies]
            assert document["optimum"][env][objective] == pytest.approx(max(j), abs=1e-9)
            assert document["worst"][env][objective] == pytest.approx(min(j), abs=1e-9)
        picked = dict(item.split("→") for item in document["policy_name"].split(", "))
        for d in ("d0", "d1"):  # named by observation: a deployment-only state has none
            assert d not in picked
        chosen = tuple(
            model.actions.index(picked[world["observations"][s]]) if s != "T" else 0
            for s in model.states
        )
        best = max(model.returns("train", "base", p) for p in policies)
        assert model.returns("train", "base", chosen) == pytest.approx(best, abs=1e-9)


@pytest.mark.slow
def test_claims_on_aliased_worlds_where_training_fixes_the_deployment_only_states(
    tmp_path,
) -> None:
    """Claims 1–3 on 300 aliased worlds (exhaustive search over observation policies) and 60
    trained by policy gradient; an aliased deployment-only state with its own label makes
    outer alignment depend on λ (claim 4) in some of them, as in the essay's MRI case."""
    summary = run_sweep(ALIASED, 300, 0, str(tmp_path / "s.db"))
    claims = summary["claims"]
    assert [claims[c]["violations"] for c in ("1", "2", "3")] == [0, 0, 0]
    assert claims["1"]["checked"] > 10 and claims["2"]["checked"] > 10
    assert claims["4"]["lambda_dependent"] > 10
    trained = run_sweep(ALIASED, 60, 0, str(tmp_path / "s.db"), optimizer="policy-gradient")
    assert [trained["claims"][c]["violations"] for c in ("1", "2", "3")] == [0, 0, 0]
    assert trained["claims"]["3"]["checked"] > 0  # misaligned yet outer-aligned: not optimal
    assert trained["verdicts"]["wentworth"].get("optimization", 0) > 0


def test_the_perfect_optimiser_stays_optimal_in_training_when_dynamics_shift() -> None:
    """Regression: where a dynamics shift makes a state on the optimal training path
    unreachable in deployment, the worst-deployment representative took an arbitrary action
    there and left Opt(train, R) (these seeds of this spec, on the per-world path)."""
    from alignlens.sweep.runner import diagnose_alone

    spec = WorldSpec(states=8, actions=3, shift="dynamics")
    for seed in (71, 88, 94):
        diagnosis = diagnose_alone(spec, seed, "exhaustive")
        assert diagnosis.analysis.regret.train_base == 0.0
        assert diagnosis.verdicts["wentworth"].conditions["full_opt"].holds


def conditions_claims(document: dict) -> dict[str, bool]:
    """Claims 1–3 recomputed from the JSON conditions of Wentworth's verdict (a second path,
    through the stored document rather than the verdict objects)."""
    c = {k: v["holds"] for k, v in document["verdicts"]["wentworth"]["conditions"].items()}
    return {
        "1": c["outer_W"] is True and c["full_opt"] is True and c["aligned"] is False,
        "2": c["outer_W_prime"] is True
        and c["robust_W"] is True
        and c["full_opt"] is True
        and c["aligned"] is False,
        "3": c["aligned"] is False and c["outer_W"] is True and c["full_opt"] is True,
    }


@pytest.mark.slow
def test_stored_rows_agree_with_their_documents(tmp_path) -> None:
    store = tmp_path / "s.db"
    run_sweep(SMALL, 60, 5, str(store))
    with open_store(store) as results:
        rows = results.rows()
    assert [r["world_seed"] for r in rows] == list(range(5, 65))
    for r in rows:
        assert r["verdicts"] == {
            lens: v["category"] for lens, v in r["document"]["verdicts"].items()
        }
        assert list(r["verdicts"]) == list(lens_names())  # in the order of the lenses
        recomputed = conditions_claims(r["document"])
        assert [r[f"claim{c}_violated"] for c in "123"] == [int(recomputed[c]) for c in "123"]


@pytest.mark.slow
def test_imperfect_optimiser_rows(tmp_path) -> None:
    summary = run_sweep(SMALL, 4, 0, str(tmp_path / "s.db"), optimizer="policy-gradient")
    assert summary["worlds"] == 4
    assert [summary["claims"][c]["violations"] for c in "123"] == [0, 0, 0]


def table(store) -> list[tuple]:
    with sqlite3.connect(store) as db:
        return db.execute("SELECT * FROM results ORDER BY optimizer, world_seed").fetchall()


SWEEP = [sys.executable, "-m", "alignlens.cli", "sweep", "run", "--worlds", "100"]
SWEEP += ["--states", "6", "--actions", "3"]


@pytest.mark.slow
def test_sigkill_mid_sweep_then_rerun_gives_exactly_the_uninterrupted_rows(tmp_path) -> None:
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    run_sweep(SMALL, 100, 0, str(whole))
    env = {**os.environ, "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false"}
    process = subprocess.Popen([*SWEEP, "--store", str(killed)], env=env)
    deadline = time.monotonic() + 120
    rows = 0
    while time.monotonic() < deadline and process.poll() is None:
        if killed.exists():
            try:
                rows = len(table(killed))
            except sqlite3.OperationalError:  # the schema is being created
                rows = 0
        if rows >= 32:  # at least one batch is committed: kill it mid-run
            break
        time.sleep(0.02)
    assert process.poll() is None, "the sweep finished before it could be interrupted"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    partial = len(table(killed))
    assert 32 <= partial < 100 and partial % 32 == 0  # whole batches only
    run_sweep(SMALL, 100, 0, str(killed))
    assert table(killed) == table(whole)


@pytest.mark.slow
def test_workers_give_the_same_rows(tmp_path) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    run_sweep(SMALL, 8, 0, str(one), batch=4)
    run_sweep(SMALL, 8, 0, str(two), batch=4, workers=2)
    assert table(one) == table(two)


@pytest.mark.slow
def test_store_refuses_other_parameters_and_foreign_files(tmp_path) -> None:
    store = tmp_path / "s.db"
    run_sweep(SMALL, 2, 0, str(store))
    with pytest.raises(AlignlensError, match="other world parameters"):
        run_sweep(WorldSpec(states=7, actions=3), 2, 0, str(store))
    junk = tmp_path / "junk.db"
    junk.write_text("not a database, just text\n" * 100)
    result = CliRunner().invoke(app, ["sweep", "report", "--store", str(junk)])
    assert result.exit_code == 2 and "junk.db" in result.output and "Fix:" in result.output
    missing = CliRunner().invoke(app, ["sweep", "report", "--store", str(tmp_path / "no.db")])
    assert missing.exit_code == 2 and "no such store" in missing.output
    assert junk.read_text().startswith("not a database")  # nothing written into it


@pytest.mark.slow
def test_cli_run_report_and_export(tmp_path) -> None:
    store, out = tmp_path / "s.db", tmp_path / "s.csv"
    runner = CliRunner()
    args = ["sweep", "run", "--worlds", "30", "--states", "6", "--actions", "3"]
    result = runner.invoke(app, [*args, "--store", str(store), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"worlds", "claims", "verdicts", "disagreement", "fragile"}
    assert document["claims"]["4"].keys() == {"checked", "lambda_dependent"}
    # the fragile counts, recounted from the rows' own lists of lenses that flip
    with open_store(store) as results:
        stored = results.rows()
    for threshold in ("tau", "kappa", "catastrophe"):
        recount = Counter(lens for r in stored for lens in r["fragile"][threshold])
        assert document["fragile"].get(threshold, {}) == {k: v for k, v in recount.items() if v}
    report = runner.invoke(app, ["sweep", "report", "--store", str(store)])
    assert report.exit_code == 0 and "claims over 30 worlds" in report.output
    exported = runner.invoke(app, ["sweep", "export", "--store", str(store), "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 30
    assert rows[0]["world_seed"] == "0" and "document.regret.deploy.intended" in rows[0]
    assert {r["verdicts.wentworth"] for r in rows} <= {"aligned", "outer"}  # fully optimised
    bad = runner.invoke(
        app, ["sweep", "export", "--store", str(store), "--out", str(out), "--format", "xls"]
    )
    assert bad.exit_code == 2 and "--format" in bad.output


@pytest.mark.slow
def test_parquet_export_reads_back(tmp_path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    store, out = tmp_path / "s.db", tmp_path / "s.parquet"
    run_sweep(SMALL, 5, 0, str(store))
    result = CliRunner().invoke(
        app, ["sweep", "export", "--store", str(store), "--out", str(out), "--format", "parquet"]
    )
    assert result.exit_code == 0, result.output
    read = pq.read_table(out)
    assert read.num_rows == 5
    assert read.column("world_seed").to_pylist() == [0, 1, 2, 3, 4]


@pytest.mark.slow
def test_ray_executor_on_a_local_instance_gives_the_local_rows(tmp_path) -> None:
    ray = pytest.importorskip("ray")
    local, distributed = tmp_path / "local.db", tmp_path / "ray.db"
    run_sweep(SMALL, 12, 0, str(local), batch=4)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = run_sweep(SMALL, 12, 0, str(distributed), batch=4, executor="ray")
    finally:
        ray.shutdown()
    assert summary["worlds"] == 12
    assert table(distributed) == table(local)


def test_unknown_executor_is_a_clear_error(tmp_path) -> None:
    result = CliRunner().invoke(
        app, ["sweep", "run", "--store", str(tmp_path / "s.db"), "--executor", "slurm"]
    )
    assert result.exit_code == 2 and "--executor" in result.output and "Fix:" in result.output
    assert not (tmp_path / "s.db").exists()  # nothing half-written


def test_an_aliased_sweep_of_worlds_too_big_to_enumerate_is_a_clear_error(tmp_path) -> None:
    store = tmp_path / "s.db"
    result = CliRunner().invoke(app, ["sweep", "run", "--store", str(store), "--shift", "aliased"])
    assert result.exit_code == 2 and "4,294,967,296 members" in result.output
    assert "fewer --states or --actions" in result.output and "Traceback" not in result.output
    assert not store.exists()
