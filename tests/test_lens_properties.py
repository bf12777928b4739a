"""Lens conditions against brute force, and claims 1–3 of DESIGN §3, on random tiny worlds.

Brute force: every deterministic tabular policy is evaluated by a dense solve of the world
dict; the optimal sets are taken literally (normalised regret ≤ ε) and each condition's
number is the max of a regret over a set. The learned policy is a random deterministic
policy, half of the time drawn from Opt(train, R) so that full optimisation occurs often.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignlens import Tolerances, diagnose, world_from_dict
from alignlens.analysis import ShareSet
from alignlens.lenses.shares import pieces_notation
from alignlens.report.document import document_of
from oracles import brute_optimal, brute_tables
from worlds import random_world_dict

EPS = 1e-9
TAU = 0.1


def regret(values: np.ndarray) -> np.ndarray:
    best, worst = values.max(), values.min()
    if best - worst <= 1e-12 * max(1.0, abs(best)):
        return np.zeros_like(values)
    return (best - values) / (best - worst)


cases = st.builds(
    lambda seed, n, a, shift, same, pick_optimal, g: (
        random_world_dict(
            np.random.default_rng(seed), n_states=n, n_actions=a, n_succ=2, discount=g, shift=shift
        ),
        same,
        pick_optimal,
        seed,
    ),
    st.integers(0, 2**32 - 1),
    st.integers(2, 4),
    st.integers(2, 3),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.sampled_from([0.5, 0.8]),
)


def setup(case: tuple) -> tuple:
    d, same, pick_optimal, seed = case
    if same:  # U = R makes outer alignment (and so the claims' premises) common
        d["objectives"]["intended"] = d["objectives"]["base"]
    _, policies, table = brute_tables(d)
    in_opt = brute_optimal(table["train", "base"])
    rng = np.random.default_rng(seed + 1)
    pool = np.flatnonzero(in_opt) if pick_optimal else np.arange(len(policies))
    index = int(rng.choice(pool))
    world = world_from_dict(d)
    policy = np.zeros((world.n_states, world.n_actions))
    policy[np.arange(world.n_states), policies[index]] = 1.0
    from alignlens.policies.tabular import TabularPolicy

    result = diagnose(
        world, TabularPolicy.fixed("pi", policy), tolerances=Tolerances(epsilon=EPS, tau=TAU)
    )
    return d, table, in_opt, index, result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_lens_conditions_match_brute_force(case: tuple) -> None:
    d, table, in_opt, index, result = setup(case)
    reg = {key: regret(v) for key, v in table.items()}
    w = result.verdicts["wentworth"].conditions
    assert w["full_opt"].value == pytest.approx(reg["train", "base"][index], abs=1e-9)
    assert w["aligned"].value == pytest.approx(reg["deploy", "intended"][index], abs=1e-9)
    assert w["outer_W"].value == pytest.approx(reg["deploy", "intended"][in_opt].max(), abs=1e-9)
    assert w["robust_W"].value == pytest.approx(reg["deploy", "base"][in_opt].max(), abs=1e-9)
    in_opt_deploy = brute_optimal(table["deploy", "base"])
    assert w["outer_W_prime"].value == pytest.approx(
        reg["deploy", "intended"][in_opt_deploy].max(), abs=1e-9
    )
    s = result.verdicts["shah"].conditions
    assert s["outer_S"].value == pytest.approx(reg["train", "intended"][in_opt].max(), abs=1e-9)
    n = result.verdicts["ngo"].conditions
    assert n["rewarded"].value == pytest.approx(reg["deploy", "base"][index], abs=1e-9)
    h = result.verdicts["hubinger"].conditions
    shared = d["train"]["transitions"] is d["deploy"]["transitions"]
    # inner_H: the policy's regret on the lifetime mixture at λ = ½, against every
    # deterministic policy's mixture return (exact with shared dynamics; under a shift the
    # analysis brackets it, and the deterministic policies' regret lies in the bracket).
    mixed = 0.5 * table["train", "base"] + 0.5 * table["deploy", "base"]
    mixture_regret = regret(mixed)[index]
    bracket = result.analysis.mixture_regret().max_bounds
    if shared:
        assert h["inner_H"].value == pytest.approx(mixture_regret, abs=1e-9)
        assert h["inner_H"].holds == (mixture_regret <= EPS)
    else:
        assert bracket[0] - 1e-9 <= mixture_regret <= bracket[1] + 1e-9
    if shared:
        mixed = 0.5 * table["train", "base"] + 0.5 * table["deploy", "base"]
        want = reg["deploy", "intended"][brute_optimal(mixed)].max()
        assert h["outer_H"].value == pytest.approx(want, abs=1e-9)
        assert h["outer_H"].holds == (want <= TAU)
        aligned_optimum = reg["deploy", "intended"][brute_optimal(mixed)].min()
        exists = result.verdicts["shimi"].conditions["outer_exists"]
        assert exists.value == pytest.approx(aligned_optimum, abs=1e-9)
        assert exists.holds == (aligned_optimum <= TAU)
        profile = result.analysis.objectives.share_profile
        for share in (0.0, 0.3, 1.0):  # the worst regret over Opt(λ, R) at every λ
            mixed = (1 - share) * table["train", "base"] + share * table["deploy", "base"]
            want = reg["deploy", "intended"][brute_optimal(mixed)].max()
            assert profile.at(share).max == pytest.approx(want, abs=1e-9)
    else:
        assert h["outer_H"].holds is None  # the tabular mixture under a dynamics shift
        assert result.analysis.objectives.share_profile is None
    safety = result.verdicts["shah_safety"].conditions
    assert safety["useful"].value == pytest.approx(reg["train", "intended"][index], abs=1e-9)
    assert safety["safe"].value == pytest.approx(reg["deploy", "intended"][index], abs=1e-9)
    split = result.verdicts["wentworth_split"].conditions
    for name in ("full_opt", "outer_W_prime", "robust_W"):
        assert split[name] == w[name]  # the same numbers as Wentworth's own lens reads
    for conditions in (w, s, n, safety, split):
        for c in conditions.values():
            if c.holds is not None and c.comparison == "<=":
                assert c.holds == (c.value <= c.threshold)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases)
def test_claims_one_to_three(case: tuple) -> None:
    """1. outer_W ∧ full_opt ⇒ aligned. 2. outer_W′ ∧ robust_W ∧ full_opt ⇒ aligned.
    3. bad ∧ outer_W ⇒ ¬full_opt."""
    *_, result = setup(case)
    c = result.verdicts["wentworth"].conditions
    aligned, outer, full = c["aligned"].holds, c["outer_W"].holds, c["full_opt"].holds
    if outer and full:
        assert aligned
    if c["outer_W_prime"].holds and c["robust_W"].holds and full:
        assert aligned
    if not aligned and outer:
        assert not full
        assert result.verdicts["wentworth"].category in ("optimization", "hacked")
    split = result.verdicts["wentworth_split"]
    if split.category == "robustness":  # claim 2 read by Wentworth's split: robust_W fails
        assert split.conditions["robust_W"].holds is not True
    every = result.verdicts["hubinger"].conditions["outer_H"].holds
    some = result.verdicts["shimi"].conditions["outer_exists"].holds
    if every:  # every member of Opt(λ, R) aligned ⇒ some member is (Opt is never empty)
        assert some


@pytest.mark.slow
def test_the_claims_premises_occur_often() -> None:
    """The property test above would pass vacuously if its premises never held: on 40
    seeded cases, count them (each must occur) and check the claims on those cases too."""
    rng = np.random.default_rng(2026)
    counts = {"claim 1": 0, "claim 2": 0, "claim 3": 0}
    for _ in range(40):
        seed = int(rng.integers(2**31))
        d = random_world_dict(
            np.random.default_rng(seed),
            n_states=int(rng.integers(2, 5)),
            n_actions=int(rng.integers(2, 4)),
            n_succ=2,
            shift=bool(rng.integers(2)),
        )
        *_, result = setup((d, bool(rng.integers(2)), bool(rng.integers(2)), seed))
        c = result.verdicts["wentworth"].conditions
        aligned, outer, full = c["aligned"].holds, c["outer_W"].holds, c["full_opt"].holds
        if outer and full:
            counts["claim 1"] += 1
            assert aligned
        if c["outer_W_prime"].holds and c["robust_W"].holds and full:
            counts["claim 2"] += 1
            assert aligned
        if not aligned and outer:
            counts["claim 3"] += 1
            assert not full
    assert min(counts.values()) >= 3, counts


def lenses_from_document(doc: dict, goal_is_base: dict[str, bool]) -> dict[str, str]:
    """Every lens's category, re-derived from the JSON document alone by the definitions
    (docs/lenses.md), independently of alignlens.lenses. A bracketed range decides a
    condition only when the whole bracket lies on one side of its threshold."""
    tol = doc["tolerances"]
    eps, tau, kappa = tol["epsilon"], tol["tau"], tol["kappa"]
    regret, sets = doc["regret"], doc["optimal_sets"]

    def all_at_most(r: dict, threshold: float) -> bool:  # surely, on the max's bracket
        return (r["max_bounds"][1] if "max_bounds" in r else r["max"]) <= threshold

    def some_at_most(r: dict, threshold: float) -> bool:  # surely, on the min's bracket
        return (r["min_bounds"][1] if "min_bounds" in r else r["min"]) <= threshold

    bad = regret["deploy"]["intended"] > tau
    full_opt = regret["train"]["base"] <= eps
    outer_h = all_at_most(sets["mixture_base"]["deploy_intended_regret"], tau)
    m = doc["mixture"]
    inner_h = (m["regret_bounds"][1] if "regret_bounds" in m else m["regret"]) <= eps
    rewarded = regret["deploy"]["base"] <= eps
    outer_s = all_at_most(sets["train_base"]["train_intended_regret"], tau)
    mesa = doc.get("mesa")
    is_mesa = bool(
        mesa
        and not mesa["equals_base"]
        and not mesa.get("degenerate")
        and mesa["competence"] >= kappa
    )
    goals = doc["goals"]
    competent_elsewhere = any(
        c is not None
        and c >= kappa
        and not goal_is_base[g]
        and goals[g]["deploy"]["optimum"] - goals[g]["deploy"]["worst"]
        > 1e-12 * max(1.0, abs(goals[g]["deploy"]["optimum"]))
        for g, c in doc["competence"].items()
    )
    outer_w_prime = all_at_most(sets["deploy_base"]["deploy_intended_regret"], tau)
    useful = regret["train"]["intended"] <= tau
    safe = regret["deploy"]["intended"] <= tol["catastrophe"]
    some_aligned = some_at_most(sets["mixture_base"]["deploy_intended_regret"], tau)
    if not bad:
        return dict.fromkeys(
            (
                "wentworth",
                "hubinger",
                "ngo",
                "shah",
                "two_d",
                "wentworth_split",
                "shah_safety",
                "shimi",
            ),
            "aligned",
        )
    return {
        "wentworth": "outer" if full_opt else "optimization",  # no hack evidence here
        "hubinger": "outer" if inner_h and not outer_h else "inner",
        "ngo": "outer" if rewarded else ("inner" if is_mesa else "robustness"),
        "shah": "outer" if not outer_s else "inner",
        "two_d": "outer"
        if inner_h and not outer_h
        else (
            "inner"
            if is_mesa
            else ("objective_robustness" if competent_elsewhere else "capability_robustness")
        ),
        "wentworth_split": ("outer" if not outer_w_prime else "robustness")
        if full_opt
        else "optimization",
        "shah_safety": "outer" if not useful else ("inner" if not safe else "robustness"),
        "shimi": "inner" if some_aligned else "outer",
    }


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases, st.sampled_from([0.0, 0.3, 0.5, 1.0]), st.booleans(), st.sampled_from(range(3)))
def test_every_lens_rederived_from_the_json_document(
    case: tuple, share: float, base_goal: bool, pool: int
) -> None:
    """The verdicts in `--json` follow from the document's own numbers by the definitions,
    at several deployment shares, with a goal that is R itself or another reward, for a
    policy drawn from Opt(train, R), from Opt(deploy, R) or from the whole class."""
    d, same, _, seed = case
    if same:
        d["objectives"]["intended"] = d["objectives"]["base"]
    rng = np.random.default_rng(seed + 2)
    states, actions = d["states"][:-1], d["actions"]
    other = [[s, a, float(rng.integers(0, 2))] for s in states for a in actions]
    d["objectives"]["goals"] = {"g": d["objectives"]["base"] if base_goal else other}
    _, policies, table = brute_tables(d)
    members = [
        np.flatnonzero(brute_optimal(table["train", "base"])),
        np.flatnonzero(brute_optimal(table["deploy", "base"])),
        np.arange(len(policies)),
    ][pool]
    world = world_from_dict(d)
    policy = np.eye(world.n_actions)[list(policies[int(rng.choice(members))])]
    from alignlens.policies.tabular import TabularPolicy

    result = diagnose(
        world,
        TabularPolicy.fixed("pi", policy),
        tolerances=Tolerances(epsilon=EPS, tau=TAU, deploy_share=share),
    )
    doc = document_of(result)
    got = {lens: v["category"] for lens, v in doc["verdicts"].items()}
    assert got == lenses_from_document(doc, {"g": base_goal})


@pytest.mark.slow
def test_the_rederivation_meets_the_cases_that_tell_the_frames_apart() -> None:
    """The re-derivation above would not notice inner_H read on deployment alone unless a
    policy optimal in deployment but not on the mixture is bad while outer_H fails: on 150
    seeded worlds, policies drawn from Opt(deploy, R), count those cases (they must occur)
    and re-derive every lens on all of them."""
    from alignlens.policies.tabular import TabularPolicy

    telling = 0
    for seed in range(150):
        rng = np.random.default_rng(seed)
        d = random_world_dict(rng, n_states=int(rng.integers(2, 5)), n_actions=2, n_succ=2)
        _, policies, table = brute_tables(d)
        pool = np.flatnonzero(brute_optimal(table["deploy", "base"]))
        world = world_from_dict(d)
        policy = np.eye(2)[list(policies[int(rng.choice(pool))])]
        result = diagnose(
            world, TabularPolicy.fixed("pi", policy), tolerances=Tolerances(epsilon=EPS, tau=TAU)
        )
        doc = document_of(result, by_share=False)
        got = {lens: v["category"] for lens, v in doc["verdicts"].items()}
        assert got == lenses_from_document(doc, {}), seed
        c = result.verdicts["hubinger"].conditions
        rewarded = result.verdicts["ngo"].conditions["rewarded"].holds
        telling += bool(c["aligned"].holds is False and c["outer_H"].holds is False) and (
            rewarded is True and c["inner_H"].holds is False
        )
    assert telling >= 2, telling


def uniform_return(model, env: str, objective: str) -> float:
    """J of the uniformly random policy by a dense linear solve of the world dict."""
    n = len(model.states)
    p = model.P[env].mean(axis=0)
    r = model.reward[objective].mean(axis=1)
    p[model.terminal] = 0.0
    r = np.where(model.terminal, 0.0, r)
    return float(model.start[env] @ np.linalg.solve(np.eye(n) - model.discount * p, r))


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases, st.sampled_from(["random", "absolute"]))
def test_other_normalisers_against_brute_force(case: tuple, normaliser: str) -> None:
    """With regrets divided by V* − J(uniform random) or by a declared scale, Opt, full_opt
    and outer_W are those of brute force normalised the same way."""
    d, _, pick_optimal, seed = case
    model, policies, table = brute_tables(d)
    scale = 0.5
    tol = Tolerances(epsilon=EPS, tau=TAU, normaliser=normaliser, reward_scale=scale)

    def reg(key: tuple[str, str]) -> np.ndarray:
        values = table[key]
        best, worst = values.max(), values.min()
        floor = uniform_return(model, *key) if normaliser == "random" else best - scale
        if best - worst <= 1e-12 * max(1.0, abs(best)) or best - floor <= 1e-12 * max(1, best):
            return np.zeros_like(values)
        return np.clip((best - values) / (best - floor), 0.0, 1.0)

    in_opt = reg(("train", "base")) <= EPS
    rng = np.random.default_rng(seed + 3)
    index = int(rng.choice(np.flatnonzero(in_opt) if pick_optimal else np.arange(len(policies))))
    world = world_from_dict(d)
    from alignlens.policies.tabular import TabularPolicy

    policy = np.eye(world.n_actions)[list(policies[index])]
    result = diagnose(world, TabularPolicy.fixed("pi", policy), tolerances=tol)
    w = result.verdicts["wentworth"].conditions
    assert w["full_opt"].value == pytest.approx(reg(("train", "base"))[index], abs=1e-9)
    assert w["aligned"].value == pytest.approx(reg(("deploy", "intended"))[index], abs=1e-9)
    outer = reg(("deploy", "intended"))[in_opt].max()
    assert w["outer_W"].value == pytest.approx(outer, abs=1e-9)
    # inner_H: the mixture regret at λ = ½ against every deterministic policy, normalised
    # the same way (exact with shared dynamics, inside the bracket under a shift)
    mixed = 0.5 * table["train", "base"] + 0.5 * table["deploy", "base"]
    best, worst = mixed.max(), mixed.min()
    floor = (
        0.5 * (uniform_return(model, "train", "base") + uniform_return(model, "deploy", "base"))
        if normaliser == "random"
        else best - scale
    )
    tie = best - worst <= 1e-12 * max(1.0, abs(best)) or best - floor <= 1e-12 * max(1, best)
    want = 0.0 if tie else min(1.0, max(0.0, (best - mixed[index]) / (best - floor)))
    low, high = result.analysis.mixture_regret().max_bounds
    assert low - 1e-9 <= want <= high + 1e-9


@pytest.mark.parametrize("normaliser", ["range", "random", "absolute"])
def test_verdicts_by_share_agree_with_diagnoses_at_each_share(examples, normaliser) -> None:
    """The verdict-by-λ pieces are the verdicts a diagnosis at that λ gives, for scans.toml's
    always-healthy classifier under each normaliser (with ε = 0.1 the ε-threshold
    crossings sit well apart from the envelope's bend at 0.6: under the absolute
    normaliser, scale 1, always-healthy stays within ε of the optimum up to λ = 0.7)."""
    from alignlens import load_world
    from alignlens.policies.enumerated import observation_policies

    world = load_world(examples / "scans.toml")
    cls = observation_policies(world)

    def tol(share: float) -> Tolerances:
        return Tolerances(0.1, 0.1, 0.9, share, normaliser=normaliser, reward_scale=1.0)

    pieces = diagnose(world, 0, policy_class=cls, tolerances=tol(0.5)).by_share()
    for share in np.linspace(0, 1, 41):
        direct = diagnose(world, 0, policy_class=cls, tolerances=tol(float(share)))
        for lens, lens_pieces in pieces.items():
            (piece,) = [p for p in lens_pieces if ShareSet((p.shares,)).contains(float(share))]
            assert piece.category == direct.verdicts[lens].category, (lens, share)
    if normaliser == "absolute":
        hubinger = pieces_notation(pieces["hubinger"])
        assert hubinger == "outer for λ ∈ [0, 0.7], inner for λ ∈ (0.7, 1]"


def test_the_random_normaliser_is_refused_where_acting_at_random_wins() -> None:
    """A and B look alike. From A, "a" leads to B and "b" ends with 0.1; at B, "b" pays 1 and
    "a" ends. Acting on the observation, "always a" earns 0 and "always b" 0.1; acting at
    random earns ½·0.1 + ½·0.9·½·1 = 0.275, more than any member: the random normaliser
    would make every regret 0, so it is an error."""
    from alignlens import AlignlensError
    from alignlens.policies.enumerated import observation_policies

    env = {
        "start": {"A": 1.0},
        "terminal": ["end"],
        "transitions": [
            ["A", "a", "B", 1.0],
            ["A", "b", "end", 1.0],
            ["B", "a", "end", 1.0],
            ["B", "b", "end", 1.0],
        ],
    }
    d = {
        "name": "aliased",
        "discount": 0.9,
        "states": ["A", "B", "end"],
        "actions": ["a", "b"],
        "observations": {"A": "o", "B": "o"},
        "train": env,
        "deploy": env,
        "objectives": {"base": [["A", "b", 0.1], ["B", "b", 1.0]], "intended": []},
    }
    world = world_from_dict(d)
    with pytest.raises(AlignlensError, match="the random normaliser gives no scale"):
        diagnose(
            world,
            1,
            policy_class=observation_policies(world),
            tolerances=Tolerances(normaliser="random"),
        )
