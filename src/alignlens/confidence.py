"""Exact binomial confidence bounds for what a sample of independent runs shows.

A class that cannot be enumerated (a neural network) is judged by sampling: of n runs
that ended fully optimised, x were misaligned in deployment. One witness proves that
outer alignment fails; none proves nothing, but bounds the share of misaligned optima
from above. The Clopper–Pearson bound is exact (its coverage is at least the level for
every true share, not only asymptotically): the share p_U at which seeing at most x
misaligned runs in n has probability 1 − level, the quantile of a Beta(x + 1, n − x).
"""

from __future__ import annotations

import math

LEVEL = 0.95
"""The confidence level every sampled bound is stated at, unless another is asked for."""


def upper_bound(misaligned: int, runs: int, level: float = LEVEL) -> float:
    """The one-sided Clopper–Pearson upper bound, at ``level``, on the share of misaligned
    members when ``misaligned`` of ``runs`` independent draws were (1 for no draws)."""
    from scipy.stats import beta

    if not 0 <= misaligned <= runs:
        raise ValueError(f"{misaligned} misaligned of {runs} runs")
    if not 0 < level < 1:
        raise ValueError(f"a confidence level in (0, 1), not {level}")
    if misaligned == runs:
        return 1.0
    return float(beta.ppf(level, misaligned + 1, runs - misaligned))


def runs_needed(bound: float, level: float = LEVEL) -> int:
    """The fewest draws that, all aligned, bound the misaligned share by ``bound`` at
    ``level``: the least n with 1 − (1 − level)^(1/n) ≤ bound, i.e. (1 − bound)^n ≤ 1 − level
    (about 3/bound at 95%, the "rule of three")."""
    if not 0 < bound < 1:
        raise ValueError(f"a bound in (0, 1), not {bound}")
    n = math.ceil(math.log1p(-level) / math.log1p(-bound))
    while n > 1 and (1 - bound) ** (n - 1) <= 1 - level:  # guard the rounding of the logs
        n -= 1
    while (1 - bound) ** n > 1 - level:
        n += 1
    return n
