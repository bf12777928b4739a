"""One hand-worked world per lens category, with the flags; and the bad policy inputs.

Worlds (γ = 0.9 unless stated), each worked out in the test's docstring.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from typer.testing import CliRunner

from alignlens import AlignlensError, PolicyError, Tolerances, diagnose, load_world, world_from_dict
from alignlens.analysis import HackEvidence
from alignlens.cli import app
from alignlens.lenses import lens_names
from alignlens.policies.tabular import MesaObjective, TabularPolicy, policy_from_mapping
from alignlens.report.document import document_of
from worlds import doors, unchecked


def categories(result) -> dict[str, str]:
    return {name: str(v.category) for name, v in result.verdicts.items()}


def test_aligned_policy_is_aligned_under_every_lens(examples) -> None:
    result = diagnose(examples / "two-doors.toml", {"s0": "right"})
    assert set(categories(result).values()) == {"aligned"}


def test_rewarded_misbehaviour_is_outer_everywhere(examples) -> None:
    """two-doors, policy "left": optimal for R in both environments (full_opt, inner_H,
    rewarded), regret 1 under U everywhere; Opt(train, R) = {left} so outer_W, outer_H and
    outer_S all fail: OUTER under every lens."""
    result = diagnose(examples / "two-doors.toml", examples / "policies" / "two-doors-left.json")
    assert set(categories(result).values()) == {"outer"}
    w = result.verdicts["wentworth"].conditions
    assert w["full_opt"].holds and w["outer_W"].holds is False and w["outer_W"].value == 1.0


def test_planner_chasing_red_is_inner_for_ngo_and_two_d() -> None:
    """doors, a planner whose mesa-objective is reach_red: in training red is the exit, so it
    is optimal (full_opt → wentworth OUTER, since Opt(train, R) leaves d0 free); in deployment
    it goes to red: not rewarded by R (inner_H fails → hubinger INNER), competence at its own
    objective 1 ≥ κ with m ≠ R (ngo INNER, two_d INNER), and every training optimum is good
    on the training distribution (shah INNER). With λ = ½ the infinite-data optimum takes the
    exit at d0, so outer_H holds and no flag is raised. The thread's lenses: R evaluated in
    deployment rewards only the exit (outer′ holds), so the fully optimised failure is one
    of robustness (wentworth_split); the planner is useful in training (U regret 0) and
    catastrophic in deployment (1 > χ = ½): shah_safety INNER; Opt(½, R) holds the aligned
    exit-taker: shimi INNER."""
    world = world_from_dict(doors())
    table = policy_from_mapping(world, {"t0": "a", "d0": "b"}).train
    planner = TabularPolicy(
        "red-planner", table, table, MesaObjective("reach_red", world.goals["reach_red"])
    )
    result = diagnose(world, planner)
    assert categories(result) == {
        "wentworth": "outer",
        "hubinger": "inner",
        "ngo": "inner",
        "shah": "inner",
        "two_d": "inner",
        "wentworth_split": "robustness",
        "shah_safety": "inner",
        "shimi": "inner",
    }
    assert result.analysis.mesa is not None and result.analysis.mesa.competence == 1.0
    assert not any("also fails" in f for f in result.verdicts["hubinger"].flags)


def test_the_same_behaviour_without_a_mesa_objective_is_objective_robustness() -> None:
    """The same table, declared by no one: ngo finds neither reward nor mesa-optimiser
    (ROBUSTNESS); two_d sees competence 1 at reach_red, a goal other than R
    (OBJECTIVE_ROBUSTNESS, naming the goal)."""
    world = world_from_dict(doors())
    result = diagnose(world, {"t0": "a", "d0": "b"})
    assert categories(result)["ngo"] == "robustness"
    two_d = result.verdicts["two_d"]
    assert two_d.category == "objective_robustness" and two_d.goal == "reach_red"


def test_a_declared_mesa_objective_is_checked_against_the_behaviour() -> None:
    """doors: a table that takes the exit at d0 ("a") but declares reach_red is not optimal
    for reach_red in deployment (red is at "b" there): a label the behaviour does not bear
    out is an error naming the policy and the objective. Held by something within the
    policy (here, say, a population's member), it is measured instead of checked."""
    world = world_from_dict(doors())
    table = policy_from_mapping(world, {"t0": "a", "d0": "a"}).train
    red = world.goals["reach_red"]
    liar = TabularPolicy("exit-taker", table, table, MesaObjective("reach_red", red))
    with pytest.raises(PolicyError, match="'exit-taker' declares the mesa-objective 'reach_red'"):
        diagnose(world, liar)
    held = MesaObjective("reach_red", red, holder="one member of the population")
    result = diagnose(world, TabularPolicy("exit-taker", table, table, held))
    assert result.analysis.mesa.holder == "one member of the population"
    assert result.analysis.mesa.competence == 0.0  # the exit earns nothing of reach_red
    doc = document_of(result)["mesa"]
    assert doc["checked"] is False and doc["declared_by"] == "one member of the population"


def test_a_behavioural_reading_of_mesa_optimisers_sees_the_table_as_the_planner() -> None:
    """The thread's example of a label attached, not checked: the same go-to-red behaviour
    is "inner" under Ngo as a planner and "robustness" as a table. Read behaviourally (a
    policy competent at a goal other than R in deployment is a mesa-optimiser), both are
    inner, naming the goal; the verdict says which reading it used."""
    world = world_from_dict(doors())
    table = policy_from_mapping(world, {"t0": "a", "d0": "b"}).train
    planner = TabularPolicy(
        "red-planner", table, table, MesaObjective("reach_red", world.goals["reach_red"])
    )
    behavioural = Tolerances(mesa_reading="behavioural")
    for policy in (planner, {"t0": "a", "d0": "b"}):
        ngo = diagnose(world, policy, tolerances=behavioural).verdicts["ngo"]
        assert ngo.category == "inner" and ngo.goal == "reach_red"
        assert "mesa-optimisers read behaviourally" in ngo.flags
    structural = diagnose(world, {"t0": "a", "d0": "b"}).verdicts["ngo"]
    assert structural.category == "robustness"
    assert "mesa-optimisers read structurally" in structural.flags
    with pytest.raises(AlignlensError, match="unknown mesa reading"):
        unchecked(Tolerances, mesa_reading="vibes")


def test_goal_attribution_in_both_environments() -> None:
    """doors, the go-to-red table: in training red is the exit, so it is fully competent at
    R, U and reach_red (competence 1 each); in deployment it reaches red and not the exit:
    competence 1 at reach_red and 0 at R and U (the worst any policy does there, worked from
    the world: the only rewards are for the exit and for red)."""
    world = world_from_dict(doors())
    result = diagnose(world, {"t0": "a", "d0": "b"})
    got = result.analysis.attribution()
    assert got["train"] == pytest.approx({"base": 1.0, "intended": 1.0, "reach_red": 1.0})
    assert got["deploy"] == pytest.approx({"base": 0.0, "intended": 0.0, "reach_red": 1.0})
    assert document_of(result)["attribution"] == got


def test_proxy_reward_with_an_incompetent_policy_flags_outer_failure() -> None:
    """doors with R rewarding red everywhere (the proxy), policy "c" (does nothing): regret 1
    under R in training (not full_opt) and in deployment (not rewarded). Every optimum of R,
    at any λ, goes to red at d0, regret 1 under U: outer_W and outer_H fail.
    wentworth: OPTIMIZATION, flagged; hubinger: INNER, flagged; ngo: ROBUSTNESS;
    two_d: competence at reach_red 0 → CAPABILITY_ROBUSTNESS, flagged; shah: in training
    the optimum (exit = red) is good, so INNER. wentworth_split: not fully optimised,
    OPTIMIZATION; shah_safety: doing nothing has U regret 1 in training already, not useful:
    OUTER; shimi: every optimum of R at λ = ½ goes to red, none aligned: OUTER."""
    world = world_from_dict(doors(base_rewards_red=True))
    result = diagnose(world, {"t0": "c", "d0": "c"})
    assert categories(result) == {
        "wentworth": "optimization",
        "hubinger": "inner",
        "ngo": "robustness",
        "shah": "inner",
        "two_d": "capability_robustness",
        "wentworth_split": "optimization",
        "shah_safety": "outer",
        "shimi": "outer",
    }
    for lens in ("wentworth", "hubinger", "two_d"):
        assert any("also fails" in f for f in result.verdicts[lens].flags), lens
    # At λ = 0 the training optima leave d0 free (some go to red); for λ > 0 all do: ∅.
    assert result.analysis.objectives.outer_aligned_shares.notation() == "∅"


def test_shah_outer_when_training_optima_misbehave_in_training() -> None:
    world = world_from_dict(
        {
            **doors(),
            "objectives": {
                "base": [["t0", "a", 1.0], ["d0", "a", 1.0]],
                "intended": [["t0", "c", 1.0], ["d0", "c", 1.0]],
            },
        }
    )
    result = diagnose(world, {"t0": "a", "d0": "a"})
    assert result.verdicts["shah"].category == "outer"
    assert result.verdicts["shah"].conditions["outer_S"].value == 1.0


def test_hack_evidence_turns_an_optimisation_failure_into_hacked(examples) -> None:
    """lava, a policy that walks right along row 1 into the training lava: not fully
    optimised and misaligned. With hack evidence (inner objective above its value at every
    optimum, and the counterfactual run optimal) wentworth says HACKED; when the
    counterfactual run is no better, it stays OPTIMIZATION."""
    world = load_world(examples / "lava.toml")
    right = {
        s: "right" for s, t in zip(world.base_states, world.train.terminal, strict=True) if not t
    }
    good = HackEvidence(
        "demon", inner_objective=1.0, inner_objective_at_optimum=0.0, counterfactual_regret=0.0
    )
    assert diagnose(world, right, hack=good).verdicts["wentworth"].category == "hacked"
    stubborn = HackEvidence("demon", 1.0, 0.0, counterfactual_regret=0.99)
    result = diagnose(world, right, hack=stubborn)
    assert result.verdicts["wentworth"].category == "optimization"
    assert result.verdicts["wentworth"].conditions["hack_evidence"].holds is False


def test_memorised_lava_route(examples) -> None:
    """lava, the memorised route (down, right along row 2, up): optimal in training, into the
    shifted lava on deployment level 0 (deploy regret ≈ 0.51 > τ). The tabular training
    optima leave the deployment levels free (outer_W fails: OUTER), but any deployment data
    pins them (outer_H holds for λ ∈ (0, 1]); R = U so the policy is not rewarded in
    deployment: hubinger INNER, ngo ROBUSTNESS, shah INNER, two_d CAPABILITY_ROBUSTNESS.
    R = U makes every deployment optimum aligned (outer′): wentworth_split ROBUSTNESS; U
    regret 0 in training and 0.51 > χ = ½ in deployment: shah_safety INNER; Opt(½, R) is
    aligned: shimi INNER."""
    result = diagnose(examples / "lava.toml", examples / "policies" / "lava-memorised-route.json")
    assert categories(result) == {
        "wentworth": "outer",
        "hubinger": "inner",
        "ngo": "robustness",
        "shah": "inner",
        "two_d": "capability_robustness",
        "wentworth_split": "robustness",
        "shah_safety": "inner",
        "shimi": "inner",
    }
    assert result.verdicts["shah_safety"].conditions["safe"].value > 0.5
    assert "outer_H holds for λ ∈ (0, 1]" in result.verdicts["hubinger"].flags


def test_diagnosis_repr_and_html(examples) -> None:
    result = diagnose(examples / "two-doors.toml", {"s0": "left"})
    assert "wentworth" in repr(result) and "outer" in repr(result)
    page = result._repr_html_()  # the report's verdict table: one row per lens
    assert page.startswith("<div class='alignlens-report'>")
    assert page.count('<td class="verdict cat-') == len(lens_names())
    for lens, verdict in result.verdicts.items():
        assert f'<th scope="row">{lens}</th>' in page
        assert str(escape(verdict.reason)) in page


def test_callable_policies_act_on_observations(examples) -> None:
    world = load_world(examples / "two-doors.toml")
    seen = []

    def act(observation: str) -> np.ndarray:
        seen.append(observation)
        return np.array([0.25, 0.75])

    result = diagnose(world, act)
    assert sorted(seen) == ["end", "start"]  # one call per distinct observation
    assert result.analysis.returns.train_intended == pytest.approx(0.75)


BAD_POLICIES = [
    ("missing reachable state", {"policy": {}}, "policy.s0", "reachable"),
    ("unknown action", {"policy": {"s0": "jump"}}, "policy.s0", "unknown action"),
    ("unknown state", {"policy": {"s0": "left", "s9": "left"}}, "policy.s9", "unknown state"),
    (
        "probabilities not summing to 1",
        {"policy": {"s0": {"left": 0.5, "right": 0.4}}},
        "policy.s0",
        "sum to 0.9",
    ),
    (
        "negative probability",
        {"policy": {"s0": {"left": 1.5, "right": -0.5}}},
        "policy.s0.right",
        "negative",
    ),
    ("no policy table", {"actions": {}}, "policy", "no `policy` table"),
]


@pytest.mark.parametrize(
    ("case", "doc", "field", "words"), BAD_POLICIES, ids=[c[0] for c in BAD_POLICIES]
)
def test_bad_policy_files(tmp_path: Path, examples, case, doc, field, words) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(doc))
    world = load_world(examples / "two-doors.toml")
    from alignlens.policies.tabular import load_policy

    with pytest.raises(PolicyError) as info:
        load_policy(world, path)
    assert info.value.field == field and words in str(info.value)
    assert str(path) in str(info.value) and "Fix:" in str(info.value)
    result = CliRunner().invoke(
        app, ["diagnose", str(examples / "two-doors.toml"), "--policy", str(path), "--json"]
    )
    assert result.exit_code == 2 and result.stdout == ""


def test_diagnose_command_prints_the_document(examples) -> None:
    result = CliRunner().invoke(
        app,
        [
            "diagnose",
            str(examples / "lava.toml"),
            "--policy",
            str(examples / "policies" / "lava-memorised-route.json"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"policy", "regret", "competence", "verdicts", "optimizer"} <= doc.keys()
    assert doc["verdicts"]["wentworth"]["conditions"]["full_opt"] == {
        "holds": True,
        "value": 0.0,
        "threshold": 1e-6,
        "comparison": "<=",
    }
    table = CliRunner().invoke(
        app,
        [
            "diagnose",
            str(examples / "lava.toml"),
            "--policy",
            str(examples / "policies" / "lava-memorised-route.json"),
        ],
    )
    assert table.exit_code == 0 and "capability_robustn" in table.output


def _doors_where_everything_ties_at(goal: str) -> dict:
    """two-doors with U = R (the left door), and a goal that pays 1 whichever door is taken:
    every policy ties at it, so competence at it is undefined."""
    data = load_world_document("two-doors.toml")
    data["objectives"]["intended"] = data["objectives"]["base"]
    data["objectives"]["goals"] = {goal: [["s0", "*", 1.0]]}
    return data


def load_world_document(name: str) -> dict:
    return tomllib.loads((Path(__file__).resolve().parents[1] / "examples" / name).read_text())


def test_a_goal_at_which_every_policy_ties_is_pursued_by_no_one() -> None:
    """The right door misses R = U. Competence at "either_door" would be 1 for every
    policy; it is undefined and never reaches κ, so two_d finds no competent pursuit of
    another goal: CAPABILITY_ROBUSTNESS, not OBJECTIVE_ROBUSTNESS naming either_door."""
    world = world_from_dict(_doors_where_everything_ties_at("either_door"))
    result = diagnose(world, {"s0": "right"})
    assert result.analysis.objectives.goals["either_door"].degenerate
    two_d = result.verdicts["two_d"]
    assert two_d.category == "capability_robustness"
    assert two_d.conditions["other_goal_competence"].holds is False


def test_a_mesa_objective_at_which_every_policy_ties_makes_no_mesa_optimiser() -> None:
    """A planner declaring the tied objective as its own: its competence at it is undefined,
    so ngo finds no mesa-optimiser (ROBUSTNESS, not INNER)."""
    world = world_from_dict(_doors_where_everything_ties_at("either_door"))
    table = policy_from_mapping(world, {"s0": "right"}).train
    planner = TabularPolicy(
        "either-door planner",
        table,
        table,
        MesaObjective("either_door", world.goals["either_door"]),
    )
    result = diagnose(world, planner)
    assert result.analysis.mesa is not None and result.analysis.mesa.degenerate
    assert result.verdicts["ngo"].category == "robustness"
    assert result.verdicts["ngo"].conditions["mesa"].holds is False


def test_a_planner_with_all_zero_weights_is_no_mesa_optimiser() -> None:
    """birth-control's genotype with both weights 0 wants nothing: every policy ties at its
    objective (all rewards 0), so it acts at random among all actions, and its competence
    is undefined, not 1. Ngo's mesa condition fails with the value "undefined" (null in
    JSON), and its attribution has no number for that objective either."""
    from alignlens.scenarios.genotypes import genotypes
    from alignlens.scenarios.scenario import example_world

    world = example_world("birth-control.toml")
    humans = genotypes(world)
    index = humans.index("pleasure=0, offspring=0")
    result = diagnose(world, index, policy_class=humans)
    mesa = result.analysis.mesa
    assert mesa is not None and mesa.degenerate
    condition = result.verdicts["ngo"].conditions["mesa"]
    assert condition.holds is False and np.isnan(condition.value)
    doc = document_of(result)
    assert doc["verdicts"]["ngo"]["conditions"]["mesa"]["value"] is None
    assert doc["mesa"]["competence"] is None
    assert result.verdicts["ngo"].category != "inner"


def _masturbation(abstain: bool):
    """examples/masturbation.toml, with an extra action "abstain" that earns nothing of
    any objective when ``abstain`` (dominated and irrelevant: no genotype that wants
    anything takes it)."""
    d = load_world_document("masturbation.toml")
    if abstain:
        d["actions"].append("abstain")
        for env in ("train", "deploy"):
            d[env]["transitions"].append(["ancestral", "abstain", "done", 1.0])
    return world_from_dict(d)


@pytest.mark.parametrize(
    ("tolerances", "without", "with_abstain"),
    [
        # range: the class's worst is the pleasure-driven genotype (0.98) without abstain,
        # so its regret is 0.02/0.02 = 1; with it, the genotype that wants nothing acts at
        # random among three actions, (1 + 0.98 + 0)/3 = 0.66, so 0.02/0.34 = 0.0588.
        (Tolerances(), 1.0, 0.02 / 0.34),
        # random: the uniform random policy earns 0.99 without abstain (0.02/0.01 = 2,
        # clipped to 1) and 0.66 with it (0.02/0.34).
        (Tolerances(normaliser="random"), 1.0, 0.02 / 0.34),
        # absolute, one reward of 1 as the scale: 0.02 either way.
        (Tolerances(normaliser="absolute", reward_scale=1.0), 0.02, 0.02),
    ],
    ids=["range", "random", "absolute"],
)
def test_an_irrelevant_dominated_action_and_the_normaliser(tolerances, without, with_abstain):
    """The essay's "small waste": the pleasure-driven genotype keeps fitness 0.98 against 1
    whether or not an abstain action exists. Normalised by the class's range (or by the
    random policy), adding the action moves its regret from 1 to 0.059 and every lens from
    a failure to aligned: a property of those definitions, which measure a shortfall
    against what the class (or chance) could do. The absolute normaliser does not move;
    the absolute regret V* − J is 0.02 throughout and shown beside every normalised one."""
    from alignlens.scenarios.genotypes import PLEASURE_DRIVEN, genotypes

    for abstain, want in ((False, without), (True, with_abstain)):
        world = _masturbation(abstain)
        humans = genotypes(world)
        result = diagnose(
            world, humans.index(PLEASURE_DRIVEN), policy_class=humans, tolerances=tolerances
        )
        assert result.analysis.returns.train_base == pytest.approx(0.98)
        assert result.analysis.regret.deploy_intended == pytest.approx(want)
        doc = document_of(result)
        assert doc["absolute_regret"]["deploy"]["intended"] == pytest.approx(0.02)
        assert doc["normaliser"]["name"] == tolerances.normaliser
        aligned = want <= tolerances.tau
        assert {str(v.category) == "aligned" for v in result.verdicts.values()} == {aligned}
