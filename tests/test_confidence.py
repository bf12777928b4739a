"""The Clopper–Pearson bound against the binomial distribution itself, and its coverage.

The bound comes from a Beta quantile (SciPy); the checks below use only the binomial
probabilities, summed exactly with integer binomial coefficients.
"""

from __future__ import annotations

import math

import pytest

from alignlens.analysis import OuterSample
from alignlens.confidence import runs_needed, upper_bound


def at_most(x: int, n: int, p: float) -> float:
    """P(X ≤ x) for X ~ Binomial(n, p), summed term by term."""
    return sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x + 1))


def bisected_bound(x: int, n: int, level: float) -> float:
    """The p at which P(X ≤ x) = 1 − level, by bisection on the binomial tail (it falls as p
    rises): the definition of the exact upper bound."""
    low, high = 0.0, 1.0
    for _ in range(200):
        middle = (low + high) / 2
        if at_most(x, n, middle) > 1 - level:
            low = middle
        else:
            high = middle
    return (low + high) / 2


@pytest.mark.parametrize("level", [0.9, 0.95, 0.99])
@pytest.mark.parametrize("x, n", [(0, 1), (0, 10), (1, 10), (3, 7), (0, 59), (5, 40), (9, 10)])
def test_the_bound_is_where_the_binomial_tail_meets_one_minus_the_level(
    x: int, n: int, level: float
) -> None:
    assert upper_bound(x, n, level) == pytest.approx(bisected_bound(x, n, level), abs=1e-9)


def test_no_misaligned_runs_give_the_closed_form() -> None:
    """With x = 0, P(X = 0) = (1 − p)^n = 1 − level: p_U = 1 − (1 − level)^(1/n)."""
    for n in (1, 2, 16, 100):
        assert upper_bound(0, n) == pytest.approx(1 - 0.05 ** (1 / n), rel=1e-12)
    assert upper_bound(4, 4) == 1.0  # every run misaligned: nothing rules out p = 1


@pytest.mark.parametrize("n", [5, 20])
@pytest.mark.parametrize("p", [0.01, 0.1, 0.37, 0.8])
def test_the_bound_covers_the_true_share_at_least_at_its_level(n: int, p: float) -> None:
    """Exact coverage: the chance (summed over every outcome x) that the bound lies at or
    above the true share p is at least the level, whatever p is."""
    covered = sum(
        math.comb(n, x) * p**x * (1 - p) ** (n - x) for x in range(n + 1) if upper_bound(x, n) >= p
    )
    assert covered >= 0.95 - 1e-12


def test_runs_needed_is_the_least_count_that_reaches_the_bound() -> None:
    """0.95^59 = 0.0485 ≤ 0.05 < 0.95^58 = 0.0510: 59 aligned runs bound the share by 5% at
    95%; and in general the count found is the least n with upper_bound(0, n) ≤ bound."""
    assert runs_needed(0.05) == 59
    for bound in (0.2, 0.1, 0.05, 0.01, 0.003):
        for level in (0.9, 0.95, 0.99):
            n = runs_needed(bound, level)
            assert upper_bound(0, n, level) <= bound + 1e-12
            assert n == 1 or upper_bound(0, n - 1, level) > bound


def test_a_sample_states_its_bound_over_the_runs_that_ended_fully_optimised() -> None:
    """Four runs, three fully optimised (regret ≤ ε), one of them misaligned (> τ): the
    bound is that of 1 in 3; runs needed scale by 4/3, the runs per fully optimised one."""
    sample = OuterSample("neural", (0, 1, 2, 3), (0.0, 0.0, 0.5, 0.0), (0.0, 1.0, 1.0, 0.05))
    assert sample.misaligned_share(1e-6, 0.1) == upper_bound(1, 3)
    assert sample.runs_needed(0.05, 1e-6) == math.ceil(59 * 4 / 3)
    none = OuterSample("neural", (0,), (0.5,), (1.0,))
    assert none.misaligned_share(1e-6, 0.1) is None and none.runs_needed(0.05, 1e-6) is None
