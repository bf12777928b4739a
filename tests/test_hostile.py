"""Hostile and extreme input, class by class: no silent wrong answer, no unbounded run, no
traceback. Each class is tested on the command line (exit status 2, one message naming the
file and the field, no traceback) and, where it is a number, against a second method."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alignlens import diagnose
from alignlens.cli import app
from alignlens.errors import PolicyError, WorldError
from alignlens.world import world_from_dict
from alignlens.world.assemble import RETURN_LIMIT, episode_weight, reward_limit
from worlds import offset_world, random_world_dict

GRID = {
    "name": "g",
    "discount": 0.9,
    "gridworld": {
        "legend": {"#": "wall", ".": "floor", "A": "start", "G": "goal", "~": "lava"},
        "terminal": ["goal", "lava"],
        "train": ["######\n#A..G#\n######"],
        "deploy": ["######\n#A~.G#\n######"],
    },
    "objectives": {"base": {"goal": 1.0}, "intended": {"goal": 1.0, "lava": -1.0}},
}


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def assert_refused(tmp_path: Path, document: dict, field: str, *words: str) -> str:
    """The file is refused: exit 2, one message with the file, the field and a fix."""
    path = tmp_path / "world.json"
    path.write_text(json.dumps(document))
    code, output = run_cli("analyze", str(path))
    assert code == 2, output
    assert str(path) in output and field in output and "Fix:" in output, output
    assert "Traceback" not in output
    for word in words:
        assert word in output, output
    return output


# --- 1. Overflow: no verdict from a non-finite or overflowed intermediate ------------------


def scaled(document: dict, factor: float) -> dict:
    """The tabular world with every reward multiplied by ``factor``."""
    out = copy.deepcopy(document)
    for name in ("base", "intended"):
        out["objectives"][name] = [[s, a, r * factor] for s, a, r in out["objectives"][name]]
    return out


def test_the_reward_limit_is_the_return_limit_over_the_episode_weight() -> None:
    """Σ γ^t: 1/(1 − γ) without a horizon; over H steps (1 − γ^H)/(1 − γ), or H at γ = 1."""
    assert episode_weight(0.9, None) == pytest.approx(10.0)
    assert episode_weight(0.9, 3) == pytest.approx(1 + 0.9 + 0.81)
    assert episode_weight(1.0, 7) == 7.0
    assert reward_limit(0.9, None) == pytest.approx(RETURN_LIMIT / 10)


@pytest.mark.parametrize("magnitude", [1e308, 1e300, 1e200, 1e101])
@pytest.mark.parametrize("discount, horizon", [(0.9, None), (0.999, None), (1.0, 20)])
def test_rewards_whose_returns_overflow_are_refused(
    tmp_path: Path, magnitude: float, discount: float, horizon: int | None
) -> None:
    """±1e308 once made every regret 0 and every lens say aligned, ±1e300 every lens
    outer: now every reward whose returns could pass 1e100 is refused, naming the field
    and the largest reward that works."""
    rng = np.random.default_rng(0)
    document = random_world_dict(rng, discount=discount)
    if horizon is not None:
        document["horizon"] = horizon
    document["objectives"]["base"].append(["s0", "a0", magnitude])
    document["objectives"]["base"].append(["s1", "a1", -magnitude])
    output = assert_refused(tmp_path, document, "objectives.base", "rescale the rewards")
    assert f"{reward_limit(discount, horizon):.3g}" in output


def test_gridworld_step_cost_and_tiles_are_named() -> None:
    for field, change in (
        ("gridworld.step_cost", lambda d: d["gridworld"].update(step_cost=-1e306)),
        ("objectives.intended.lava", lambda d: d["objectives"]["intended"].update(lava=-1e300)),
    ):
        document = copy.deepcopy(GRID)
        change(document)
        with pytest.raises(WorldError) as e:
            world_from_dict(document)
        assert e.value.field == field and "overflow" in e.value.problem


@settings(max_examples=12, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    exponent=st.integers(-6, 90),
    discount=st.sampled_from([0.5, 0.9, 0.99]),
)
def test_verdicts_do_not_change_with_the_scale_of_the_rewards(
    seed: int, exponent: int, discount: float
) -> None:
    """Every regret is a ratio of differences of returns: multiplying every reward by
    10^k (within the limits, 1e-6 to 1e100 in size) leaves regrets equal to 1e-9 and
    verdicts unchanged."""
    rng = np.random.default_rng(seed)
    document = random_world_dict(rng, discount=discount, shift=True)
    policy = rng.dirichlet(np.ones(2), size=len(document["states"]))
    table = {s: list(map(float, row)) for s, row in zip(document["states"], policy, strict=True)}
    plain = diagnose(world_from_dict(document), table)
    big = diagnose(world_from_dict(scaled(document, 10.0**exponent)), table)
    assert {k: v.category for k, v in big.verdicts.items()} == {
        k: v.category for k, v in plain.verdicts.items()
    }
    for env in ("train", "deploy"):
        for objective in ("base", "intended"):
            assert big.analysis.regret.get(env, objective) == pytest.approx(
                plain.analysis.regret.get(env, objective), abs=1e-9
            )


def test_rewards_too_small_to_tell_from_ties_are_refused(tmp_path: Path) -> None:
    """Below 1e-6 (at 1e-11 once a regret moved from 0.526 to 0.579), the round-off
    margins would read differences as ties: refused, naming the objective."""
    document = scaled(random_world_dict(np.random.default_rng(0), shift=True), 1e-7)
    assert_refused(tmp_path, document, "objectives.", "at least 1e-06")


def test_normalized_regret_never_overflows_and_never_clips_a_non_finite_number() -> None:
    from alignlens.analysis import normalized_regret

    # V* − W = 2e308 overflows; halves do not: J = 0 sits halfway.
    assert normalized_regret(0.0, 1e308, -1e308) == pytest.approx(0.5)
    assert np.isnan(normalized_regret(np.inf, 1.0, 0.0))
    assert np.isnan(normalized_regret(0.5, np.nan, 0.0))


# --- 5. Markup in user text is printed literally ------------------------------------------

MARKUP = ["[/]", "[red]red[/red]", "[link=https://example.com]here[/link]", "[bold]"]


def test_names_with_markup_are_printed_literally(tmp_path: Path) -> None:
    """A world, its states and actions named with Rich markup: `[/]` once raised a
    MarkupError, `[red]…[/red]` was swallowed, `[link=…]` became a live hyperlink."""
    document = {
        "name": MARKUP[0] + " world",
        "discount": 0.9,
        "states": [MARKUP[1], MARKUP[2], "end"],
        "actions": [MARKUP[3], "b"],
        "train": {
            "start": {MARKUP[1]: 1.0},
            "transitions": [
                [MARKUP[1], MARKUP[3], MARKUP[2], 1.0],
                [MARKUP[1], "b", "end", 1.0],
                [MARKUP[2], MARKUP[3], "end", 1.0],
                [MARKUP[2], "b", "end", 1.0],
            ],
            "terminal": ["end"],
        },
        "objectives": {"base": [[MARKUP[2], "b", 1.0]]},
    }
    document["deploy"] = document["train"]
    world = tmp_path / "world.json"
    world.write_text(json.dumps(document))
    policy = tmp_path / "[red]p[bold].json"
    policy.write_text(json.dumps({"policy": {MARKUP[1]: MARKUP[3], MARKUP[2]: "b"}}))
    for args in (["analyze", str(world)], ["diagnose", str(world), "--policy", str(policy)]):
        code, output = run_cli(*args)
        assert code == 0, output
        assert "[/] world" in output, output
    assert "[red]p[bold]" in output  # the policy's name, from its file name
    missing = {"policy": {MARKUP[1]: MARKUP[3]}}  # no row for the second state
    policy.write_text(json.dumps(missing))
    code, output = run_cli("diagnose", str(world), "--policy", str(policy))
    assert code == 2 and MARKUP[2] in output and "Traceback" not in output


def test_a_path_with_markup_is_reported_as_written(tmp_path: Path) -> None:
    missing = tmp_path / "[bold]x.json"
    code, output = run_cli("analyze", str(missing))
    assert code == 2 and "[bold]x.json" in output and "Traceback" not in output


# --- 3. Discounts near 1 -------------------------------------------------------------------


def self_loop(discount: float) -> dict:
    """a: stay (reward 1, forever) or go to b; b: go on to c, paying 2; c ends."""
    env = {
        "start": {"a": 1.0},
        "transitions": [
            ["a", "stay", "a", 1.0],
            ["a", "go", "b", 1.0],
            ["b", "stay", "b", 1.0],
            ["b", "go", "c", 1.0],
        ],
        "terminal": ["c"],
    }
    return {
        "name": "loop",
        "discount": discount,
        "states": ["a", "b", "c"],
        "actions": ["stay", "go"],
        "train": env,
        "deploy": env,
        "objectives": {"base": [["a", "stay", 1.0], ["b", "go", 2.0]]},
    }


@pytest.mark.timeout(60)
@pytest.mark.parametrize("discount", [0.999, 0.9999, 0.99999])
def test_discounts_near_one_solve_exactly(discount: float) -> None:
    """Staying forever earns 1/(1 − γ), going on earns 2γ: V* = 1/(1 − γ) (analytic), and
    value iteration no longer needs ~1/(1 − γ) sweeps to get there (policy iteration
    finishes, whatever γ is)."""
    from alignlens.solve import analyze_world

    world = world_from_dict(self_loop(discount))
    optimum = analyze_world(world).optimum.train_base
    assert optimum == pytest.approx(1.0 / (1.0 - discount), rel=1e-12)


@pytest.mark.parametrize("discount", [1 - 1e-6, 1 - 1e-9, 0.9999999999999999])
def test_discounts_too_close_to_one_are_refused_naming_the_field(
    tmp_path: Path, discount: float
) -> None:
    """Past 1 − γ = 1e-5 a policy's evaluation cannot be certified from its residual (about
    2e-16/(1 − γ) of the value scale against 1e-10 of it), and the solver's margins are
    fractions of that scale: refused before anything is solved, naming the field."""
    assert_refused(tmp_path, self_loop(discount), "discount", "0.99999")
    with_horizon = {**self_loop(discount), "horizon": 50}
    world_from_dict(with_horizon)  # a horizon makes the world acyclic: any γ is exact


def test_small_reward_differences_are_resolved_where_no_gap_is_in_doubt(tmp_path: Path) -> None:
    """Rewards 1 and 0.9999995 at γ = 0.9: every action's gap is 0 or at least 5e-7, far
    from the band between ε's bound and round-off, so the world is analysed, not refused:
    V*_train = ½·1 + ½·1 = 1 and W_train = ½·0 + ½·0.9999995 (each start acts once)."""
    env = {
        "start": {"s0": 0.5, "s1": 0.5},
        "transitions": [[s, a, "end", 1.0] for s in ("s0", "s1") for a in ("x", "y")],
        "terminal": ["end"],
    }
    world = {
        "name": "gap",
        "discount": 0.9,
        "states": ["s0", "s1", "end"],
        "actions": ["x", "y"],
        "train": env,
        "deploy": {**env, "start": {"s1": 1.0}},
        "objectives": {
            "base": [["s0", "x", 1.0], ["s1", "x", 1.0], ["s1", "y", 0.9999995]],
            "intended": [["s1", "x", 1.0]],
        },
    }
    path = tmp_path / "gap.json"
    path.write_text(json.dumps(world))
    code, output = run_cli("analyze", str(path), "--json")
    assert code == 0, output
    document = json.loads(output)
    assert document["optimum"]["train"]["base"] == pytest.approx(1.0, abs=1e-15)
    assert document["worst"]["train"]["base"] == pytest.approx(0.49999975, abs=1e-15)


def test_the_longest_life_of_a_set_of_policies() -> None:
    """In the loop world every policy that may stay lives 1/(1 − γ) steps; one that must go
    lives 1 + γ (a, then b, then the end) — both analytic."""
    from alignlens.solve.exact.optimal_set import longest_lifetime

    env = world_from_dict(self_loop(0.9)).train
    everything = np.ones((3, 2), dtype=bool)
    assert longest_lifetime(env, everything) == pytest.approx(10.0, rel=1e-12)
    go = np.array([[False, True]] * 3)
    assert longest_lifetime(env, go) == pytest.approx(1.9, rel=1e-12)


def test_values_far_above_their_spread_are_refused_not_widened(tmp_path: Path) -> None:
    """Every reward is about 1e9 at γ = 0.9. At a, "stay" earns 1e9 + 100 forever, "near"
    5e-3 less, "go" leads to b, which earns 1e9 forever: V*(a) = (1e9 + 100)/0.1 and W(a) =
    1e9 + 0.9 · 1e10, a spread of 1000. Round-off's margin, 1e-12 · 1e10 = 1e-2, covers
    the gap of "near" (5e-3), which ε's bound (1e-6 · 1000/10 = 1e-4) excludes; over a
    life of 10 steps such a margin could cost 1e-2 · 10/1000 = 1e-4 of regret > ε: refused,
    naming the discount, with an --epsilon that works (never a silently wider Opt)."""
    world = offset_world(near_gap=5e-3)
    output = assert_refused(tmp_path, world, "discount", "cannot be told apart", "--epsilon")
    suggested = output.split("--epsilon (at least ")[1].split(")")[0]
    assert 1e-4 <= float(suggested) <= 1.2e-4
    code, text = run_cli("analyze", str(tmp_path / "world.json"), "--epsilon", suggested)
    assert code == 0, text


# --- 4 and 9. Parsing: strict types, duplicates, nesting, huge integers, file kinds ----------

TABULAR = self_loop(0.9)


def test_strict_types_are_refused_with_the_type_expected(tmp_path: Path) -> None:
    cases = {
        "horizon": ({"horizon": True}, "whole number"),
        "horizon ": ({"horizon": "5"}, "whole number"),
        "discount": ({"discount": "0.9"}, "number"),
    }
    for field, (change, words) in cases.items():
        assert_refused(tmp_path, {**TABULAR, **change}, field.strip(), words)
    probability = copy.deepcopy(TABULAR)
    probability["train"]["transitions"][0][3] = "0.7"
    assert_refused(tmp_path, probability, "train.transitions", "number")
    start = copy.deepcopy(TABULAR)
    start["train"]["start"]["a"] = True
    assert_refused(tmp_path, start, "train.start", "number")


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    text = json.dumps(TABULAR)
    path.write_text(text[:-1] + ', "discount": 0.5}')
    code, output = run_cli("analyze", str(path))
    assert code == 2 and "'discount' appears twice" in output and "Traceback" not in output


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_deeply_nested_and_huge_numbers_are_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"world{suffix}"
    nested = "[" * 100_000 + "]" * 100_000
    digits = "7" * 5000
    for body in (
        nested if suffix == ".json" else f"x = {nested}",
        f'{{"discount": {digits}}}' if suffix == ".json" else f"discount = {digits}",
    ):
        path.write_text(body)
        code, output = run_cli("analyze", str(path))
        assert code == 2, output
        assert str(path) in output and "Fix:" in output and "Traceback" not in output


@pytest.mark.timeout(30)
def test_only_regular_files_of_bounded_size_are_read(tmp_path: Path) -> None:
    """A FIFO once hung forever and /dev/zero read until memory ran out."""
    import os

    fifo = tmp_path / "world.toml"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(65 * 2**20)  # sparse: 65 MiB on paper, nothing on disk
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for path, words in (
        (fifo, "not a regular file"),
        (zero, "not a regular file"),
        (huge, "more than"),
        (folder, "a folder"),
    ):
        code, output = run_cli("analyze", str(path))
        assert code == 2 and words in output and "Traceback" not in output, output


@pytest.mark.parametrize(
    "row", [["a", "b"], [0.5, "0.5"], [True, False], [None, 1.0], "[0.5, 0.5]"]
)
def test_policy_rows_that_are_not_probabilities_are_refused(tmp_path: Path, row) -> None:
    world = tmp_path / "world.json"
    world.write_text(json.dumps(TABULAR))
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"a": row, "b": "go"}))
    code, output = run_cli("diagnose", str(world), "--policy", str(policy))
    assert code == 2, output
    assert str(policy) in output and "Fix:" in output and "Traceback" not in output


@pytest.mark.parametrize("seed", ["99999999999999999999", "-1"])
def test_seeds_out_of_range_are_usage_errors(seed: str) -> None:
    code, output = run_cli("run", "virus", "--seed", seed)
    assert code == 2 and "--seed" in output and "Traceback" not in output


def test_output_paths_are_checked_before_the_work(tmp_path: Path) -> None:
    """A folder, a missing folder and a folder without write permission, for `report` and
    `sweep export`: refused at once, naming --out."""
    import os

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    outs = [tmp_path, tmp_path / "missing" / "r.html"]
    if os.geteuid() != 0:  # root writes anywhere
        outs.append(locked / "r.html")
    store = tmp_path / "store.db"
    code, output = run_cli("sweep", "run", "--worlds", "2", "--store", str(store))
    assert code == 0, output
    for out in outs:
        for args in (
            ["report", "--scenario", "virus", "--out", str(out)],
            ["sweep", "export", "--store", str(store), "--out", str(out)],
        ):
            code, output = run_cli(*args)
            assert code == 2 and "--out" in output and "Traceback" not in output, output


# --- 6. A model file cannot run code ---------------------------------------------------------


@pytest.fixture(scope="module")
def crafted(tmp_path_factory):
    """A real PPO model whose pickled policy class is replaced by a payload that, when
    unpickled, creates the file ``pwned`` (the way a crafted file runs code in
    Stable-Baselines3's loader)."""
    import base64
    import pickle
    import zipfile

    import gymnasium as gym
    from stable_baselines3 import PPO

    folder = tmp_path_factory.mktemp("sb3")
    env = gym.make("FrozenLake-v1", is_slippery=False)
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, seed=0, device="cpu")
    model.learn(64)
    model.save(folder / "plain.zip")
    marker = folder / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    with zipfile.ZipFile(folder / "plain.zip") as source:
        files = {name: source.read(name) for name in source.namelist()}
    data = json.loads(files["data"])
    data["policy_class"][":serialized:"] = base64.b64encode(pickle.dumps(Payload())).decode()
    files["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(folder / "crafted.zip", "w") as out:
        for name, content in files.items():
            out.writestr(name, content)
    return folder, marker


def test_a_crafted_model_runs_nothing(crafted) -> None:
    """Loaded safely (the default), from Python and from the command line, the payload
    never runs, and the policy acts as the model did; the full loader, asked for by
    name, would run it (which is why it needs --trust-model)."""
    import numpy as np
    from stable_baselines3 import PPO

    from alignlens.policies.external import load_sb3, sb3_policy

    folder, marker = crafted
    safe = sb3_policy(load_sb3(folder / "crafted.zip"))
    plain = sb3_policy(PPO.load(folder / "plain.zip", device="cpu"))
    for state in range(16):
        np.testing.assert_allclose(safe(state), plain(state), rtol=0, atol=1e-7)
    code, output = run_cli(
        "diagnose-gym",
        "--train",
        "FrozenLake-v1:is_slippery=false",
        "--deploy",
        "FrozenLake-v1:is_slippery=false",
        "--policy",
        f"sb3:{folder / 'crafted.zip'}",
        "--check",
        "0",
    )
    assert code == 0, output
    assert not marker.exists()
    with pytest.raises(PolicyError):  # the loader that unpickles: the payload runs,
        load_sb3(folder / "crafted.zip", trust=True)  # then the model is unusable
    assert marker.exists()


def test_a_model_the_safe_loader_does_not_know_is_refused(crafted, tmp_path: Path) -> None:
    """Another policy class, layers wider than the weights (a file cannot make the policy
    allocate what it likes), a description nested 100,000 deep, and not a zip at all."""
    import zipfile

    folder, _ = crafted
    with zipfile.ZipFile(folder / "plain.zip") as source:
        files = {name: source.read(name) for name in source.namelist()}

    def variant(name: str, change) -> Path:
        data = json.loads(files["data"])
        change(data)
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as out:
            for member, content in files.items():
                out.writestr(member, json.dumps(data) if member == "data" else content)
        return path

    strange = variant(
        "strange.zip",
        lambda d: d["policy_class"].update(__init__="<function EvilPolicy.__init__ at 0x0>"),
    )
    wide = variant("wide.zip", lambda d: d.update(policy_kwargs={"net_arch": [40_000, 40_000]}))
    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as out:
        for member, content in files.items():
            out.writestr(member, "[" * 100_000 + "]" * 100_000 if member == "data" else content)
    not_a_zip = tmp_path / "text.zip"
    not_a_zip.write_text("hello")
    for path, words in (
        (strange, "EvilPolicy"),
        (wide, "wider"),
        (deep, "nested"),
        (not_a_zip, "not a saved"),
    ):
        code, output = run_cli(
            "diagnose-gym",
            "--train",
            "FrozenLake-v1",
            "--deploy",
            "FrozenLake-v1",
            "--policy",
            f"sb3:{path}",
        )
        assert code == 2 and words in output and "--trust-model" in output, output
        assert "Traceback" not in output


# --- 7 and 8. Stores: read-only commands change nothing; sweeps resume linearly ----------


def test_read_only_commands_never_create_or_change_a_store(tmp_path: Path) -> None:
    """`sweep report` and `sweep export` on another SQLite file, an empty file, a store of
    another version, a damaged row or garbage: exit 2, the file's bytes unchanged."""
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE people (name TEXT)")
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        db.execute("CREATE TABLE results (world_seed INTEGER, optimizer TEXT)")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    for path in (other, empty, old, garbage):
        before = path.read_bytes()
        for args in (
            ["sweep", "report", "--store", str(path)],
            ["sweep", "export", "--store", str(path), "--out", str(tmp_path / "x.csv")],
        ):
            code, output = run_cli(*args)
            assert code == 2 and str(path) in output and "Traceback" not in output, output
        assert path.read_bytes() == before, path
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow
def test_a_damaged_row_is_a_clear_error(tmp_path: Path) -> None:
    import sqlite3

    store = tmp_path / "runs.db"
    code, output = run_cli("sweep", "run", "--worlds", "3", "--store", str(store))
    assert code == 0, output
    with sqlite3.connect(store) as db:
        db.execute("UPDATE results SET document = '{not json' WHERE world_seed = 1")
    code, output = run_cli("sweep", "report", "--store", str(store))
    assert code == 2 and "world 1" in output and "Traceback" not in output, output


def test_a_failed_first_run_leaves_no_store(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    code, output = run_cli(
        "sweep", "run", "--worlds", "2", "--store", str(store), "--optimizer", "nonsense"
    )
    assert code == 2 and not store.exists(), output


@pytest.mark.slow
def test_resuming_reads_the_done_seeds_once_and_reports_each_optimiser(
    tmp_path: Path, monkeypatch
) -> None:
    """A complete store is resumed with one query of its done seeds (once per wanted seed
    made resuming 10,000 worlds take 79 s), and a store of two optimisers reports each on
    its own, with its own count of worlds."""
    from alignlens.sweep import store as store_module

    path = tmp_path / "runs.db"
    code, output = run_cli("sweep", "run", "--worlds", "12", "--store", str(path))
    assert code == 0, output
    calls = []
    original = store_module.Store.done
    monkeypatch.setattr(
        store_module.Store, "done", lambda self, o: calls.append(o) or original(self, o)
    )
    code, output = run_cli("sweep", "run", "--worlds", "12", "--store", str(path), "--json")
    assert code == 0 and json.loads(output)["worlds"] == 12
    assert calls == ["exhaustive"]
    code, output = run_cli(
        "sweep", "run", "--worlds", "3", "--store", str(path), "--optimizer", "policy-gradient"
    )
    assert code == 0, output
    code, output = run_cli("sweep", "report", "--store", str(path), "--json")
    document = json.loads(output)["optimizers"]
    assert {k: v["worlds"] for k, v in document.items()} == {
        "exhaustive": 12,
        "policy-gradient": 3,
    }
    code, output = run_cli("sweep", "report", "--store", str(path))
    assert "claims over 12 worlds (exhaustive)" in output
    assert "claims over 3 worlds (policy-gradient)" in output
    page = tmp_path / "sweep.html"
    code, output = run_cli("report", "--store", str(path), "--out", str(page))
    assert code == 0, output
    html = page.read_text()
    assert "Claims: exhaustive" in html and "Claims: policy-gradient" in html
    assert "sweep of 12 (exhaustive), 3 (policy-gradient) worlds" in html


@pytest.mark.slow
def test_a_huge_request_commits_its_first_batch_at_once(tmp_path: Path) -> None:
    """10⁹ worlds: the batches are drawn lazily, so the first is committed before the
    rest is even listed (stopped here after it by a progress callback)."""
    import sqlite3

    from alignlens.sweep.generator import WorldSpec
    from alignlens.sweep.runner import run_sweep

    class Stop(Exception):
        pass

    def stop_after_first(done: int, total: int) -> None:
        if done > 0:
            raise Stop

    store = tmp_path / "huge.db"
    with pytest.raises(Stop):
        run_sweep(WorldSpec(states=4, actions=2), 10**9, 0, str(store), on_batch=stop_after_first)
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 32


# --- 2. Resource bounds: estimated before anything is allocated ---------------------------


def test_sizes_parse() -> None:
    from alignlens.limits import parse_size

    assert parse_size("512M") == 512 * 2**20 and parse_size("8G") == 8 * 2**30
    assert parse_size("1000") == 1000 and parse_size("1.5k") == 1536
    for bad in ("lots", "9" * 400):
        with pytest.raises(WorldError, match="not a size"):
            parse_size(bad)
    code, output = run_cli("--max-memory", "lots", "scenarios")
    assert code == 2 and "--max-memory" in output and "Traceback" not in output


@pytest.mark.timeout(60)
def test_a_huge_gridworld_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    """2,000 × 2,000 cells under a 1 GiB budget (a 5,000 × 5,000 level once parsed for 91 s
    and died with a MemoryError): refused from the length of its levels."""
    level = "\n".join(["#" * 2000] + ["#" + "." * 1998 + "#"] * 1998 + ["#" * 2000])
    level = level.replace(".", "A", 1).replace(".", "G", 1)
    document = copy.deepcopy(GRID)
    document["gridworld"]["train"] = [level]
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(document))
    code, output = run_cli("--max-memory", "1G", "analyze", str(path))
    assert code == 2 and "gridworld" in output and "more than the 1 GiB" in output, output


def wide(n: int) -> dict:
    """s0 reaches n states at once; each of them ends the episode."""
    states = ["s0", *(f"t{i}" for i in range(n)), "end"]
    rows = [["s0", "go", f"t{i}", 1.0 / n] for i in range(n)]
    rows += [[f"t{i}", "go", "end", 1.0] for i in range(n)]
    env = {"start": {"s0": 1.0}, "transitions": rows, "terminal": ["end"]}
    return {
        "name": "wide",
        "discount": 0.9,
        "states": states,
        "actions": ["go"],
        "train": env,
        "deploy": env,
        "objectives": {"base": [["t0", "go", 1.0]]},
    }


def test_one_wide_state_is_refused_with_its_width() -> None:
    """One state with 3,000 successors makes every row 3,000 wide: refused under a 64 MiB
    budget, saying so (a 30,000-wide one once built a 6.7 GiB table)."""
    from alignlens.limits import set_budget

    set_budget(64 * 2**20)
    try:
        with pytest.raises(WorldError, match="one state-action has 3,000 successors") as e:
            world_from_dict(wide(3000))
        assert e.value.field == "transitions" and "--max-memory" in e.value.fix
        world_from_dict(wide(300))  # 300 wide fits
    finally:
        set_budget(None)


@pytest.mark.timeout(120)
def test_long_horizons_are_solved_or_refused() -> None:
    """γ = 1 and 10⁵ steps: staying earns 1 a step, V* = 10⁵ (one backward pass, not a
    sweep per step); 10⁹ and 10¹⁸ steps are refused naming the horizon."""
    from alignlens.solve import analyze_world

    world = world_from_dict({**self_loop(1.0), "horizon": 10**5})
    assert analyze_world(world).optimum.train_base == 10**5
    for steps in (10**9, 10**18):
        with pytest.raises(WorldError, match="more than") as e:
            world_from_dict({**self_loop(1.0), "horizon": steps})
        assert e.value.field == "horizon"


def test_sweeps_too_large_for_memory_are_refused(tmp_path: Path) -> None:
    store = tmp_path / "runs.db"
    for args, field in (
        (["--successors", "10000000"], "--successors"),
        (["--states", "20000000"], "--states"),
    ):
        code, output = run_cli("sweep", "run", "--worlds", "1", "--store", str(store), *args)
        assert code == 2 and field in output and "Traceback" not in output, output
        assert not store.exists()


def test_under_an_address_space_limit_a_large_world_is_refused_not_crashed(tmp_path: Path) -> None:
    """With ``ulimit -v`` at 3 GiB the default budget is half of it: a world estimated at
    more is refused with exit status 2 and no traceback."""
    import subprocess
    import sys

    path = tmp_path / "wide.json"
    path.write_text(json.dumps(wide(6000)))
    script = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))\n"
        "from alignlens.cli import main\n"
        "sys.argv = ['alignlens', 'analyze', sys.argv[1]]\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    assert "more than" in proc.stderr and "Traceback" not in proc.stderr


# --- 10. Messages name the field the user wrote ----------------------------------------------


def test_huge_level_weights_are_shares_not_overflows() -> None:
    """Weights 1e308 and 3e308 once summed to inf and blamed "gridworld.train.start", a
    field the gridworld form does not have: weights are relative, so these are ¼ and ¾."""
    document = copy.deepcopy(GRID)
    level = GRID["gridworld"]["deploy"][0]
    document["gridworld"]["deploy"] = [
        {"map": level, "weight": 1e308},
        {"map": level.replace("~", "."), "weight": 1.7e308},
    ]
    world = world_from_dict(document)
    starts = world.deploy.start[world.deploy.start > 0]
    assert sorted(starts) == pytest.approx([1 / 2.7, 1.7 / 2.7])
    document["gridworld"]["deploy"][1]["map"] = level  # the same map twice: 2.7e308 in all
    world = world_from_dict(document)
    assert world.deploy.start[world.deploy.start > 0].tolist() == [1.0]


def test_numpy_numbers_from_python_are_numbers() -> None:
    world = world_from_dict({**self_loop(np.float64(1.0)), "horizon": np.int64(5)})
    assert world.horizon == 5


def test_the_gridworld_estimate_does_not_refuse_what_fits() -> None:
    """A 50 × 50 floor over 40 steps (10⁵ states) loads under a 256 MiB budget (the first
    estimate counted walls, slips and shared levels and asked 11× too much)."""
    from alignlens.limits import set_budget

    level = "\n".join(["#" * 52] + ["#" + "." * 50 + "#"] * 50 + ["#" * 52])
    level = level.replace(".", "A", 1).replace(".", "G", 1)
    document = copy.deepcopy(GRID)
    document["gridworld"]["train"] = document["gridworld"]["deploy"] = [level]
    document["horizon"] = 40
    set_budget(256 * 2**20)
    try:
        world_from_dict(document)
    finally:
        set_budget(None)


# --- The classes together: documents mutated at random -------------------------------------

HOSTILE = [
    None,
    True,
    "",
    "[/]",
    "[red]x[/red]",
    "[link=https://example.com]x[/link]",
    "0.7",
    "x" * 10_000,
    -1,
    0,
    2**70,
    1e308,
    -1e308,
    5e-324,
    [],
    {},
    [[[[[[[[[[[]]]]]]]]]]],
    {"a": {"b": {"c": [1, "2", None]}}},
    ["s0", "left"],
    ["s0", "left", "s1", 1.0, "extra"],
]


def paths_of(document: object, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) to a value inside ``document``."""
    out = [prefix] if prefix else []
    if isinstance(document, dict):
        for key, value in document.items():
            out += paths_of(value, (*prefix, key))
    elif isinstance(document, list):
        for i, value in enumerate(document):
            out += paths_of(value, (*prefix, i))
    return out


def replaced(document: dict, path: tuple, value: object) -> dict:
    out = copy.deepcopy(document)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


VALID_TABULAR = json.loads(json.dumps({**self_loop(0.9), "horizon": 4}))
VALID_GRID = json.loads(json.dumps(GRID))


@pytest.mark.timeout(600)
@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_mutated_documents_never_crash(tmp_path_factory, data) -> None:
    """A valid world (tabular or gridworld) with one value anywhere replaced by a hostile
    one (a wrong type, an extreme number, markup, nesting, a long string): `analyze`
    either answers or exits 2 with one message naming the file and a fix, never a
    traceback."""
    base = data.draw(st.sampled_from([VALID_TABULAR, VALID_GRID]))
    path = data.draw(st.sampled_from(paths_of(base)))
    value = data.draw(st.sampled_from(HOSTILE))
    document = replaced(base, path, value)
    world = tmp_path_factory.mktemp("mutated") / "world.json"
    world.write_text(json.dumps(document))
    result = CliRunner().invoke(app, ["analyze", str(world)])
    assert_clean(result, (path, value))
    if result.exit_code == 2:
        assert str(world) in result.output, (path, value)


@pytest.mark.timeout(600)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_mutated_policies_never_crash(tmp_path_factory, data) -> None:
    folder = tmp_path_factory.mktemp("policy")
    world = folder / "world.json"
    world.write_text(json.dumps(self_loop(0.9)))
    base = {"policy": {"a": "stay", "b": {"stay": 0.5, "go": 0.5}}}
    path = data.draw(st.sampled_from(paths_of(base)))
    value = data.draw(st.sampled_from(HOSTILE))
    policy = folder / "policy.json"
    policy.write_text(json.dumps(replaced(base, path, value)))
    result = CliRunner().invoke(app, ["diagnose", str(world), "--policy", str(policy)])
    assert_clean(result, (path, value))


def assert_clean(result, case: tuple) -> None:
    """An answer, or exit status 2 with a fix: never an exception."""
    assert result.exit_code in (0, 2), (case, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        case,
        repr(result.exception),
    )
    if result.exit_code == 2:
        assert "Fix:" in result.output, (case, result.output)
