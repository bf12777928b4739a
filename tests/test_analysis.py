"""Known answers of the objective-level analysis, worked by hand, and the λ-set logic."""

from __future__ import annotations

import pytest

from alignlens.analysis import Interval, Range, ShareSet
from alignlens.solve import analyze_world, normalized_regret, tabular_share_set
from alignlens.solve.exact.analyze import aligned_everywhere, regret_range
from alignlens.tolerances import Tolerances
from alignlens.world import load_world


def test_two_doors_known_answer(examples) -> None:
    """γ = 0.9, one step: R pays 1 for left, U pays 1 for right; the other door pays 0.

    V*_R = V*_U = 1, W = 0 in both environments; the random policy earns ½. Opt(train, R)
    = {left}, whose intended regret is (1 − 0)/(1 − 0) = 1 everywhere, and whose base
    regret in deployment is 0. No λ makes the optimum aligned.
    """
    a = analyze_world(load_world(examples / "two-doors.toml"))
    assert a.optimum.as_dict() == {
        "train": {"base": 1, "intended": 1},
        "deploy": {"base": 1, "intended": 1},
    }
    assert a.worst.as_dict() == {
        "train": {"base": 0, "intended": 0},
        "deploy": {"base": 0, "intended": 0},
    }
    assert a.random.get("deploy", "intended") == pytest.approx(0.5)
    train = a.optimal_sets["train_base"]
    assert (train["deploy_intended_regret"].min, train["deploy_intended_regret"].max) == (1, 1)
    assert train["deploy_base_regret"].max == 0
    assert a.outer_aligned_shares.intervals == ()
    assert a.goals["go_left"].best == pytest.approx(1.0)


def test_share_of_zero_or_one_picks_the_end_sets(examples) -> None:
    world = load_world(examples / "lava.toml")
    at_zero = analyze_world(world, Tolerances(deploy_share=0.0))
    at_one = analyze_world(world, Tolerances(deploy_share=1.0))
    assert at_zero.optimal_sets["mixture_base"]["deploy_intended_regret"].max == 1.0
    assert at_one.optimal_sets["mixture_base"]["deploy_intended_regret"].max == 0.0


def test_normalised_regret_and_ties() -> None:
    assert normalized_regret(0.25, 1.0, 0.0) == 0.75
    assert normalized_regret(5.0, 5.0 + 1e-13, 5.0) == 0.0  # every policy ties
    flipped = regret_range(Range(0.2, 0.8, (0.1, 0.2), (0.8, 0.9)), best=1.0, floor=0.0)
    assert (flipped.min, flipped.max) == pytest.approx((0.2, 0.8))
    assert flipped.min_bounds == pytest.approx((0.1, 0.2))
    assert flipped.max_bounds == pytest.approx((0.8, 0.9))


def test_alignment_over_a_bracketed_range() -> None:
    assert aligned_everywhere(Range.exact_range(0.0, 0.05), 0.1) is True
    assert aligned_everywhere(Range.exact_range(0.0, 0.5), 0.1) is False
    assert aligned_everywhere(Range(0.0, 0.05, (0.0, 0.0), (0.05, 0.5)), 0.1) is None


@pytest.mark.parametrize(
    ("flags", "notation"),
    [
        ((True, True, True), "[0, 1]"),
        ((False, True, True), "(0, 1]"),
        ((True, True, False), "[0, 1)"),
        ((True, False, True), "{0} ∪ {1}"),
        ((False, False, False), "∅"),
        ((False, False, True), "{1}"),
    ],
)
def test_tabular_share_sets(flags, notation) -> None:
    shares = tabular_share_set(*flags)
    assert shares.notation() == notation
    assert shares.contains(0.0) is flags[0]
    assert shares.contains(0.5) is flags[1]
    assert shares.contains(1.0) is flags[2]


def test_interval_notation() -> None:
    assert ShareSet((Interval(0.25, 0.5, False, True),)).notation() == "(0.25, 0.5]"


def test_mixture_reaches_what_either_environment_reaches(examples) -> None:
    from alignlens.solve import mixture

    world = load_world(examples / "lava.toml")
    mixed = mixture(world.train, world.deploy, 0.3)
    assert (mixed.present == (world.train.present | world.deploy.present)).all()
    assert mixed.start.sum() == pytest.approx(1.0)
