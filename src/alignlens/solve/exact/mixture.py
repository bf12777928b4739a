"""The mixture objective (1 − λ)·J^train + λ·J^deploy, and sets of λ (deployment shares).

With shared dynamics the mixture is the return of one environment whose episodes start
in training with probability 1 − λ and in deployment with probability λ. For the
tabular class its optimal set is then the same for every λ strictly between 0 and 1
(Q* does not depend on the start): only the end points differ.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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


def share_set(
    vertices: Sequence[float], at_vertices: Sequence[bool], on_segments: Sequence[bool]
) -> ShareSet:
    """The set of λ where a property holds, from its value at each vertex λ_0 < … < λ_m and
    on each open segment between consecutive vertices (constant there)."""
    pieces: list[tuple[float, float, bool]] = []  # (low, high, holds), points have low == high
    for j, vertex in enumerate(vertices):
        pieces.append((vertex, vertex, at_vertices[j]))
        if j < len(on_segments):
            pieces.append((vertex, vertices[j + 1], on_segments[j]))
    intervals: list[Interval] = []
    run: list[tuple[float, float, bool]] = []
    for piece in [*pieces, (np.inf, np.inf, False)]:
        if piece[2]:
            run.append(piece)
            continue
        if run:
            first, last = run[0], run[-1]
            intervals.append(Interval(first[0], last[1], first[0] == first[1], last[0] == last[1]))
        run = []
    return ShareSet(tuple(intervals))


def tabular_share_set(at_zero: bool, inside: bool, at_one: bool) -> ShareSet:
    """The set of λ where a property holds, from its value at 0, on (0, 1), and at 1."""
    return share_set([0.0, 1.0], [at_zero, at_one], [inside])
