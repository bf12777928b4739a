"""Where verdicts flip: the pieces of every lens's verdict along τ, κ, χ, λ and ε, checked
against diagnoses made again from scratch at each threshold (a second, independent path:
the world re-analysed with the new tolerances, every lens applied anew)."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alignlens import Tolerances, diagnose, world_from_dict
from alignlens.cli import app
from alignlens.policies.tabular import TabularPolicy
from alignlens.sensitivity import (
    THRESHOLDS,
    fragile,
    neighbourhood,
    scanned_strip,
    sensitivity,
    threshold_strip,
)
from worlds import offset_world, random_world_dict

ROOT = Path(__file__).resolve().parents[1]
LAVA = str(ROOT / "examples" / "lava.toml")
ROUTE = str(ROOT / "examples" / "policies" / "lava-memorised-route.json")


def random_diagnosis(seed: int, shift: bool = False):
    rng = np.random.default_rng(seed)
    d = random_world_dict(rng, n_states=3, n_actions=2, n_succ=2, shift=shift)
    if rng.random() < 0.5:
        d["objectives"]["intended"] = d["objectives"]["base"]
    d["objectives"]["goals"] = {"g": [[s, "a0", 1.0] for s in d["states"][:-1]]}
    world = world_from_dict(d)
    table = np.eye(world.n_actions)[rng.integers(world.n_actions, size=world.n_states)]
    policy = TabularPolicy.fixed("pi", table)
    return world, policy, diagnose(world, policy)


def categories_from_scratch(world, policy, **tolerances) -> dict[str, str]:
    result = diagnose(world, policy, tolerances=Tolerances(**tolerances))
    return {lens: str(v.category) for lens, v in result.verdicts.items()}


def from_scratch(world, policy, parameter: str):
    """`categories_from_scratch` along one parameter, each value diagnosed once."""
    done: dict[float, dict[str, str]] = {}

    def at(x: float) -> dict[str, str]:
        if x not in done:
            done[x] = categories_from_scratch(world, policy, **{parameter: x})
        return done[x]

    return at


def probes(interval) -> list[float]:
    """Points of a piece: its closed ends and its middle."""
    out = [0.5 * (interval.low + interval.high)]
    if interval.low_closed:
        out.append(interval.low)
    if interval.high_closed:
        out.append(interval.high)
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**31 - 1), st.sampled_from(THRESHOLDS))
def test_threshold_pieces_match_diagnoses_made_again(seed: int, parameter: str) -> None:
    """Every piece's ends and middle give the piece's category when the whole diagnosis is
    made again at that threshold; just outside a closed end (the next float), another
    piece's category, or the same one only where the pieces say so."""
    world, policy, result = random_diagnosis(seed)
    strip = threshold_strip(result.analysis, parameter)
    for _lens, found in strip.pieces.items():
        assert found[0].interval.low == 0.0 and found[-1].interval.high == 1.0
        for piece, following in itertools.pairwise(found):
            assert piece.interval.high == following.interval.low  # no gap, no overlap
            assert piece.interval.high_closed != following.interval.low_closed
            assert piece.category != following.category  # maximal pieces
    again = from_scratch(world, policy, parameter)
    for found_lens, found in strip.pieces.items():
        for piece in found:
            for x in probes(piece.interval):
                assert again(x)[found_lens] == piece.category, (found_lens, parameter, x)


def test_the_catastrophe_threshold_flips_shah_safety_at_the_deployment_regret() -> None:
    """Lava's memorised route has reg^deploy_U = 0.5117 (its exact regret): shah_safety
    calls it catastrophic (inner) for χ below that number and merely short of τ
    (robustness) from it on; every other lens ignores χ."""
    result = diagnose(LAVA, ROUTE)
    regret = result.analysis.regret.deploy_intended
    strip = threshold_strip(result.analysis, "catastrophe")
    (inner, robust) = strip.pieces["shah_safety"]
    assert (inner.category, robust.category) == ("inner", "robustness")
    assert inner.interval.high == robust.interval.low == regret
    assert not inner.interval.high_closed and robust.interval.low_closed
    assert all(len(found) == 1 for lens, found in strip.pieces.items() if lens != "shah_safety")
    assert fragile(result.analysis, result.verdicts)["catastrophe"] == ["shah_safety"]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, 11])
def test_scanned_pieces_agree_with_diagnoses_at_their_ends(seed: int) -> None:
    """ε (which changes the optimal sets) is scanned: each piece's ends were diagnosed, and
    each change lies in the gap between two pieces of different categories. Under a
    dynamics shift λ is scanned as well."""
    world, policy, result = random_diagnosis(seed, shift=True)
    strips = sensitivity(result, result.redo)
    assert not strips["epsilon"].exact and not strips["deploy_share"].exact
    for name in ("epsilon", "deploy_share"):
        again = from_scratch(world, policy, name)
        for lens, found in strips[name].pieces.items():
            for piece in found:
                for x in (piece.interval.low, piece.interval.high):
                    assert again(x)[lens] == piece.category


def near_miss() -> dict:
    """a: stay (ends, nothing under R; what U wants) or go to b; b: go (ends, R pays 2) or
    stay (ends, R pays 1.98). The policy (go, stay) has R-regret (2γ − 1.98γ)/(2γ − 0) =
    0.01 and U-regret 1."""
    env = {
        "start": {"a": 1.0},
        "transitions": [
            ["a", "stay", "c", 1.0],
            ["a", "go", "b", 1.0],
            ["b", "stay", "c", 1.0],
            ["b", "go", "c", 1.0],
        ],
        "terminal": ["c"],
    }
    return {
        "name": "near miss",
        "discount": 0.9,
        "states": ["a", "b", "c"],
        "actions": ["stay", "go"],
        "train": env,
        "deploy": env,
        "objectives": {
            "base": [["b", "go", 2.0], ["b", "stay", 1.98]],
            "intended": [["a", "stay", 1.0]],
        },
    }


def test_scanning_locates_a_change_to_one_percent() -> None:
    """Wentworth's lens says optimisation while ε < 0.01 (the policy is not fully
    optimised) and outer from ε = 0.01 on: the scan brackets 0.01 within 1%, and the
    pieces' ends are the categories a fresh diagnosis gives there."""
    world = world_from_dict(near_miss())
    policy = {"a": "go", "b": "stay"}
    result = diagnose(world, policy)
    r = result.analysis.regret.train_base
    assert r == pytest.approx(0.01, rel=1e-12)
    strip = scanned_strip(result, result.redo, "epsilon", [1e-9, 1e-5, 1e-3, 0.1], log=True)
    below, above = strip.pieces["wentworth"]
    assert (below.category, above.category) == ("optimization", "outer")
    assert below.interval.high < r <= above.interval.low
    assert above.interval.low / below.interval.high < 1.01
    for x, want in ((below.interval.high, "optimization"), (above.interval.low, "outer")):
        assert categories_from_scratch(world, policy, epsilon=x)["wentworth"] == want


@pytest.mark.slow
def test_fragility_counted_fast_matches_the_full_pieces() -> None:
    """A sweep counts flips within a factor of 2 of τ, κ's shortfall and χ by evaluating
    only lenses with a condition near the threshold; on 120 random worlds that agrees with
    the full pieces of every lens."""
    from alignlens.sweep.generator import WorldSpec, random_batch
    from alignlens.sweep.runner import diagnose_batch

    diagnoses = diagnose_batch(random_batch(WorldSpec(states=6), list(range(120))), "exhaustive")
    flipped = 0
    for d in diagnoses:
        found = fragile(d.analysis, d.verdicts)
        for parameter in THRESHOLDS:
            low, high = neighbourhood(parameter, float(getattr(d.analysis.tolerances, parameter)))
            strip = threshold_strip(d.analysis, parameter, low, high)
            full = [lens for lens, pieces in strip.pieces.items() if len(pieces) > 1]
            assert found[parameter] == full
            flipped += bool(full)
    assert flipped >= 5  # the comparison is not vacuous


def test_neighbourhoods() -> None:
    assert neighbourhood("tau", 0.1) == (0.05, 0.2)
    assert neighbourhood("catastrophe", 0.6) == (0.3, 1.0)
    low, high = neighbourhood("kappa", 0.9)  # shortfall 0.1 doubled and halved
    assert math.isclose(low, 0.8) and math.isclose(high, 0.95)


@pytest.mark.slow
def test_sensitivity_command(tmp_path: Path) -> None:
    out = tmp_path / "flips.html"
    result = CliRunner().invoke(
        app, ["sensitivity", LAVA, "--policy", ROUTE, "--json", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document["parameters"]) == {"deploy_share", "epsilon", "tau", "kappa", "catastrophe"}
    chi = document["parameters"]["catastrophe"]
    assert chi["exact"] and chi["flips_near_default"]["shah_safety"]
    assert [p["category"] for p in chi["lenses"]["shah_safety"]] == ["inner", "robustness"]
    page = out.read_text()
    assert page.count("<img ") == 5 and "as a function of χ" in page
    text = CliRunner().invoke(app, ["sensitivity", LAVA, "--policy", ROUTE])
    assert "flips within a factor of 2 of the default: shah_safety" in text.output


@pytest.mark.parametrize(
    "args",
    [
        ["sensitivity"],
        ["sensitivity", LAVA],
        ["sensitivity", LAVA, "--policy", ROUTE, "--scenario", "mri"],
    ],
)
def test_sensitivity_needs_a_world_with_its_policy_or_a_scenario(args: list[str]) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "Fix:" in result.output and "Traceback" not in result.output


def test_a_scan_marks_the_values_where_the_world_cannot_be_analysed() -> None:
    """Rewards near 1e9 at γ = 0.9 (values near 1e10, round-off's margin 1e-2, a spread of
    1000): "near" is 5e-5 short of "stay" at a. At ε = 1e-6 that gap is within ε's bound
    (1e-6 · 1000/10 = 1e-4), so the default is analysed; from ε below 5e-7 on it falls in
    the band only round-off decides, and those values are marked unresolved instead of
    stopping the scan."""
    world = world_from_dict(offset_world(near_gap=5e-5))
    result = diagnose(world, {"a": "stay", "b": "stay"})
    strip = scanned_strip(result, result.redo, "epsilon", [1e-9, 1e-8, 1e-6, 1e-3], log=True)
    first, *rest = strip.pieces["wentworth"]
    assert first.category == "unresolved" and first.interval.high < 5e-7
    assert rest and all(p.category == "aligned" for p in rest)
