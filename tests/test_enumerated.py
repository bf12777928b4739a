"""Enumerated classes, planners and the exhaustive optimiser, against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignlens import Tolerances, diagnose, load_world, world_from_dict
from alignlens.errors import PolicyError
from alignlens.lenses.shares import inner_shares, pieces_notation
from alignlens.optimizers import exhaustive
from alignlens.policies.enumerated import from_policies, observation_policies
from alignlens.policies.planner import deceptive_planner, planner, planner_class
from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.solve.exact.enumerated import analyze_enumerated, envelope_bends
from oracles import brute_tables
from worlds import random_world_dict


def test_claim_four_the_lambda_set_of_an_aliased_classifier(examples) -> None:
    """scans.toml (worked in the file): the observation class has two members; the
    infinite-data optimum is aligned exactly for λ ∈ (0.6, 1], while the tabular class,
    which sees the patient, is aligned at every λ."""
    world = load_world(examples / "scans.toml")
    cls = observation_policies(world)
    assert cls.size == 2
    analysis, returns = analyze_enumerated(world, cls)
    assert analysis.outer_aligned_shares.notation() == "(0.6, 1]"
    assert sorted(returns["train", "base"]) == pytest.approx([0.2, 0.8])
    tabular = diagnose(
        world, {"healthy": "say_healthy", "sick": "say_sick"}, policy_class="tabular"
    )
    assert tabular.analysis.objectives.outer_aligned_shares.notation() == "[0, 1]"
    # The outer verdicts follow λ: below 0.6 the optimum says "healthy" to everyone.
    for share, expected in ((0.5, False), (0.7, True)):
        result = diagnose(world, 0, policy_class=cls, tolerances=Tolerances(deploy_share=share))
        assert result.verdicts["hubinger"].conditions["outer_H"].holds is expected


def test_mri_verdict_under_hubinger_flips_at_the_critical_share(examples) -> None:
    """The thread's MRI exchange. Wentworth: Hubinger's definition "will classify
    generalization error as an outer alignment error"; Hubinger: for RL, take "the optimal
    policy on the MDP that the model will actually encounter over its existence".

    Worked by hand from scans.toml: "always healthy" (member 0, the training optimum)
    earns 0.8 − 0.5λ of R on the lifetime mixture, "always sick" 0.2 + 0.5λ. For λ ≤ 0.6
    always-healthy is optimal on the mixture (inner_H) and misaligned, so outer_H fails:
    OUTER. For λ > 0.6 only always-sick is optimal: outer_H holds, inner_H fails: INNER.
    The 2-D lens agrees below λ* and finds no competence above it."""
    world = load_world(examples / "scans.toml")
    cls = observation_policies(world)
    healthy = diagnose(world, 0, policy_class=cls)
    assert healthy.analysis.returns.train_base == pytest.approx(0.8)  # it is always-healthy
    for share in (0.0, 0.3, 0.5, 0.6, 0.6000001, 0.7, 1.0):
        tol = Tolerances(deploy_share=share)
        result = diagnose(world, 0, policy_class=cls, tolerances=tol)
        healthy_return, sick_return = 0.8 - 0.5 * share, 0.2 + 0.5 * share
        optimal = healthy_return >= sick_return - 1e-12
        h = result.verdicts["hubinger"]
        assert h.conditions["inner_H"].holds is optimal, share
        assert h.category == ("outer" if optimal else "inner"), share
        assert result.verdicts["two_d"].category == (
            "outer" if optimal else "capability_robustness"
        )
        best = max(healthy_return, sick_return)
        assert result.analysis.mixture_return() == pytest.approx(healthy_return)
        assert result.analysis.objectives.mixture.best[1](share) == pytest.approx(best)
    by_share = {k: pieces_notation(v) for k, v in healthy.by_share().items()}
    assert by_share["hubinger"] == "outer for λ ∈ [0, 0.6], inner for λ ∈ (0.6, 1]"
    assert by_share["wentworth"] == "outer for λ ∈ [0, 1]"  # Wentworth's lens has no λ


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1))
def test_mixture_envelopes_are_the_members_extremes(seed: int) -> None:
    """The kept envelope lines give, at every λ, the max and the min of the mixture return
    of R over all members, and the inner_H λ-set agrees with the regret at random λ."""
    d = random_world_dict(np.random.default_rng(seed), n_states=3, n_actions=2, n_succ=2)
    world = world_from_dict(d)
    _, policies, table = brute_tables(d)
    cls = from_policies(
        "all", [TabularPolicy.fixed(f"p{i}", np.eye(2)[list(p)]) for i, p in enumerate(policies)]
    )
    analysis, _ = analyze_enumerated(world, cls)
    rng = np.random.default_rng(seed)
    for share in [0.0, 1.0, *rng.uniform(size=6)]:
        mixed = (1 - share) * table["train", "base"] + share * table["deploy", "base"]
        assert analysis.mixture.best[1](share) == pytest.approx(mixed.max(), abs=1e-12)
        assert analysis.mixture.worst[0](share) == pytest.approx(mixed.min(), abs=1e-12)
    member = int(rng.integers(len(policies)))
    result = diagnose(world, member, policy_class=cls)
    inside = inner_shares(result.analysis)
    for share in rng.uniform(size=20):
        mixed = (1 - share) * table["train", "base"] + share * table["deploy", "base"]
        best, worst = mixed.max(), mixed.min()
        gap = best - worst
        reg = 0.0 if gap <= 1e-12 * max(1, abs(best)) else (best - mixed[member]) / gap
        if abs(reg - 1e-6) > 1e-9:  # away from the knife-edge at ε
            assert inside.contains(share) == (reg <= 1e-6), share


def test_envelope_bends_of_crossing_lines() -> None:
    # Lines 1 − λ, λ and 0.4 (flat): the envelope is 1 − λ up to ½, then λ; 0.4 never tops it.
    bends = envelope_bends(np.array([1.0, 0.0, 0.4]), np.array([0.0, 1.0, 0.4]))
    assert bends == pytest.approx([0.0, 0.5, 1.0])
    # With the flat line at 0.6 it tops the envelope on (0.4, 0.6).
    bends = envelope_bends(np.array([1.0, 0.0, 0.6]), np.array([0.0, 1.0, 0.6]))
    assert bends == pytest.approx([0.0, 0.4, 0.6, 1.0])


small_worlds = st.builds(
    lambda seed, n, a, same: (
        random_world_dict(np.random.default_rng(seed), n_states=n, n_actions=a, n_succ=2),
        same,
        seed,
    ),
    st.integers(0, 2**32 - 1),
    st.integers(2, 4),
    st.integers(2, 3),
    st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_worlds)
def test_enumerated_analysis_matches_brute_force(case: tuple) -> None:
    """A class of 7 random deterministic policies: ranges over Opt are min/max over the
    members whose regret within the class is ≤ ε; the λ-set agrees with a fine grid."""
    d, same, seed = case
    if same:
        d["objectives"]["intended"] = d["objectives"]["base"]
    _, policies, table = brute_tables(d)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(policies), size=min(7, len(policies)), replace=False)
    world = world_from_dict(d)
    eye = np.eye(world.n_actions)
    members = [TabularPolicy.fixed(f"p{i}", eye[list(policies[i])]) for i in picks]
    tol = Tolerances(epsilon=1e-9, tau=0.1)
    analysis, _ = analyze_enumerated(world, from_policies("sample", members), tol)

    def reg(v: np.ndarray) -> np.ndarray:
        spread = v.max() - v.min()
        return (
            np.zeros_like(v) if spread <= 1e-12 * max(1, abs(v.max())) else (v.max() - v) / spread
        )

    j = {k: v[picks] for k, v in table.items()}
    in_opt = reg(j["train", "base"]) <= 1e-9
    for quantity, (e, o) in {
        "deploy_intended_regret": ("deploy", "intended"),
        "deploy_base_regret": ("deploy", "base"),
        "train_intended_regret": ("train", "intended"),
    }.items():
        got = analysis.optimal_sets["train_base"][quantity]
        want = reg(j[e, o])[in_opt]
        assert (got.min, got.max) == pytest.approx((want.min(), want.max()), abs=1e-9)
    # The lenses read these ranges: wentworth's outer_W for a member of the class.
    cls = from_policies("sample", members)
    verdict = diagnose(world, 0, policy_class=cls, tolerances=tol).verdicts["wentworth"]
    outer = reg(j["deploy", "intended"])[in_opt].max()
    assert verdict.conditions["outer_W"].value == pytest.approx(outer, abs=1e-9)
    assert verdict.conditions["full_opt"].holds == bool(in_opt[0])
    bad = reg(j["deploy", "intended"]) > 0.1
    bends = envelope_bends(j["train", "base"], j["deploy", "base"])
    for share in np.linspace(0, 1, 41):
        if min(abs(share - b) for b in bends) < 1e-6 and share not in (0.0, 1.0):
            continue
        mixed = (1 - share) * j["train", "base"] + share * j["deploy", "base"]
        aligned = not bad[reg(mixed) <= 1e-9].any()
        assert analysis.outer_aligned_shares.contains(float(share)) == aligned, share
        worst = reg(j["deploy", "intended"])[reg(mixed) <= 1e-9].max()
        assert analysis.share_profile.at(float(share)).max == pytest.approx(worst, abs=1e-9)


def test_planners_are_indifferent_and_batched_planners_agree(examples) -> None:
    world = load_world(examples / "lava.toml")
    goal = MesaObjective("reach_goal", world.goals["reach_goal"])
    single = planner(world, goal)
    # From the start, "down" and "right" both begin a shortest safe route: a tie, half each.
    start = world.states.index("train[0]:(1,1)")
    assert single.train[start, world.actions.index("down")] == pytest.approx(0.5)
    assert single.train[start, world.actions.index("right")] == pytest.approx(0.5)
    cls = planner_class(
        world,
        {"goal": world.goals["reach_goal"], "base": world.base},
        {"goal": [1.0, 0.0], "base": [0.0, 1.0]},
    )
    assert cls.size == 4 and cls.names(1) == "goal=1, base=1"
    batched = cls.member(2)  # goal=0, base=0 … index order: goal major
    assert cls.names(2) == "goal=0, base=0"
    np.testing.assert_allclose(cls.member(0).train, planner(world, cls.mesa(0)).train)
    assert batched.mesa is not None


def test_deceptive_planner_switches_on_the_feature() -> None:
    d = {
        "name": "oversight",
        "discount": 0.9,
        "states": ["watched", "alone", "done"],
        "actions": ["comply", "defect"],
        "observations": {"watched": "overseer present", "alone": "no overseer"},
        "train": {
            "start": {"watched": 1.0},
            "terminal": ["done"],
            "transitions": [
                [s, a, "done", 1.0] for s in ("watched", "alone") for a in ("comply", "defect")
            ],
        },
        "deploy": {
            "start": {"alone": 1.0},
            "terminal": ["done"],
            "transitions": [
                [s, a, "done", 1.0] for s in ("watched", "alone") for a in ("comply", "defect")
            ],
        },
        "objectives": {
            "base": [["watched", "comply", 1.0], ["alone", "comply", 1.0]],
            "intended": [["watched", "comply", 1.0], ["alone", "comply", 1.0]],
            "goals": {"power": [["watched", "defect", 1.0], ["alone", "defect", 1.0]]},
        },
    }
    world = world_from_dict(d)
    observed = np.array(
        [world.observation_names[o] == "overseer present" for o in world.observation]
    )
    cheat = deceptive_planner(
        world, world.base, MesaObjective("power", world.goals["power"]), observed
    )
    assert cheat.train[0].tolist() == [1.0, 0.0] and cheat.train[1].tolist() == [0.0, 1.0]
    honest = planner(world, MesaObjective("base", world.base))
    cls = from_policies("planners", [honest, cheat])
    result = exhaustive(world, cls, tie_break=[cheat.name])
    assert result.policy.name == cheat.name and result.optimal.tolist() == [True, True]
    verdicts = diagnose(world, result.policy, policy_class=cls, optimizer="exhaustive").verdicts
    # Optimal in training, defects in deployment, a competent mesa-optimiser: O, I, I, I, I.
    # The thread's lenses: R in deployment rewards only the honest planner (outer′ holds),
    # so the fully optimised failure is robustness; complying in training (useful), then
    # regret 1 > χ (catastrophic): inner; the honest planner is an aligned optimum on the
    # mixture: shimi inner.
    assert {k: str(v.category) for k, v in verdicts.items()} == {
        "wentworth": "outer",
        "hubinger": "inner",
        "ngo": "inner",
        "shah": "inner",
        "two_d": "inner",
        "wentworth_split": "robustness",
        "shah_safety": "inner",
        "shimi": "inner",
    }


def test_exhaustive_tie_breaks_on_the_tabular_class(examples) -> None:
    # forked-training: over Opt(train, R), deployment J_U ranges over [0, 1.45] (worked in
    # tests/test_extremes.py); the tie-breaks pick members at either end.
    world = load_world(examples / "forked-training.toml")
    worst = exhaustive(world, tie_break="worst-deployment")
    best = exhaustive(world, tie_break="best-deployment")
    first = exhaustive(world)
    for result in (worst, best, first):
        assert diagnose(world, result.policy).analysis.regret.train_base == 0.0
    assert diagnose(world, worst.policy).analysis.returns.deploy_intended == pytest.approx(0.0)
    assert diagnose(world, best.policy).analysis.returns.deploy_intended == pytest.approx(1.45)
    with pytest.raises(PolicyError, match="enumerated"):
        exhaustive(world, tie_break=["a"])
    with pytest.raises(PolicyError, match="unknown tie-break"):
        exhaustive(world, tie_break="random")


def test_an_empty_class_is_a_clear_error() -> None:
    with pytest.raises(PolicyError, match="no members"):
        from_policies("nothing", [])


@pytest.mark.slow
def test_a_million_member_class_against_its_closed_form(examples) -> None:
    """forked-training, members mixing the actions a, b, c with probabilities x(1−y),
    (1−x)(1−y), y at every state (a 1000 × 1000 grid of (x, y)). By hand (γ = 0.9):
      J^train_R = 0.9·(1−y)²   (reach s1 or s2 unless c; then a or b pays 1 unless c);
      U1 = x(1−y) + 2y, U2 = x(1−y)   (intended value of acting once at s1, s2);
      J^deploy_U = ½·0.9·[x(1−y)·U1 + (1−x)(1−y)·U2] + ½·U1.
    Regrets are normalised over the class; the solver's ranges must match."""
    world = load_world(examples / "forked-training.toml")
    n_states, n_actions = world.n_states, world.n_actions
    xs, ys = np.linspace(0, 1, 1000), np.linspace(0, 1, 1000)

    def build(p: dict) -> tuple[np.ndarray, np.ndarray]:
        x, y = p["x"][:, None], p["y"][:, None]
        t = np.zeros((x.shape[0], n_states, n_actions))
        t[:, :, 0], t[:, :, 1], t[:, :, 2] = x * (1 - y), (1 - x) * (1 - y), y
        return t, t

    from alignlens.policies.enumerated import product_class

    cls = product_class("mixtures", {"x": xs, "y": ys}, build)
    analysis, returns = analyze_enumerated(world, cls, Tolerances(epsilon=1e-9))
    x, y = (g.ravel() for g in np.meshgrid(xs, ys, indexing="ij"))
    train = 0.9 * (1 - y) ** 2
    u1, u2 = x * (1 - y) + 2 * y, x * (1 - y)
    deploy = 0.5 * 0.9 * (x * (1 - y) * u1 + (1 - x) * (1 - y) * u2) + 0.5 * u1
    np.testing.assert_allclose(returns["train", "base"], train, atol=1e-12)
    np.testing.assert_allclose(returns["deploy", "intended"], deploy, atol=1e-12)
    in_opt = (train.max() - train) / (train.max() - train.min()) <= 1e-9
    regret = (deploy.max() - deploy) / (deploy.max() - deploy.min())
    got = analysis.optimal_sets["train_base"]["deploy_intended_regret"]
    assert (got.min, got.max) == pytest.approx((regret[in_opt].min(), regret[in_opt].max()))
