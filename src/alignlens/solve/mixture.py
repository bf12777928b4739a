"""The mixture objective (1 − λ)·J^train + λ·J^deploy, and sets of λ (deployment shares).

With shared dynamics the mixture is the return of one environment whose episodes start
in training with probability 1 − λ and in deployment with probability λ. For the
tabular class its optimal set is then the same for every λ strictly between 0 and 1
(Q* does not depend on the start; DESIGN §2): only the end points differ.
"""

from __future__ import annotations

from alignlens.analysis import Interval, ShareSet
from alignlens.errors import SolverError
from alignlens.world.model import Environment


def mixture(train: Environment, deploy: Environment, share: float) -> Environment:
    """The environment whose return is (1 − share)·J^train + share·J^deploy."""
    if train.next_state is not deploy.next_state or train.prob is not deploy.prob:
        raise SolverError(
            "the environments' dynamics differ on a shared state, so no single environment "
            "gives the mixture objective",
            fix="use an enumerated policy class for worlds whose dynamics shift",
        )
    start = (1.0 - share) * train.start + share * deploy.start
    return train.with_start(f"mixture({share:g})", start)


def tabular_share_set(at_zero: bool, inside: bool, at_one: bool) -> ShareSet:
    """The set of λ where a property holds, from its value at 0, on (0, 1), and at 1."""
    if inside:
        return ShareSet((Interval(0.0, 1.0, at_zero, at_one),))
    parts = [Interval(x, x) for x, holds in ((0.0, at_zero), (1.0, at_one)) if holds]
    return ShareSet(tuple(parts))
