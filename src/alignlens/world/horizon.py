"""Finite horizons by time augmentation: state s at step t becomes the state (s, t).

Step ``t`` runs from 0 to ``horizon - 1``; every action at the last step leads to one
absorbing terminal state "end". The augmented world is acyclic, so value iteration is
exact after ``horizon + 1`` sweeps and every linear system of policy evaluation is
non-singular, even with discount 1. Policies of the tabular class may depend on the
step (the optimal policies of a finite horizon generally do); a policy given per state
is the member that ignores it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Bool, Float, Int

END_OBSERVATION = "<end>"
"""The observation of the absorbing state after the last step."""


@dataclass(frozen=True, eq=False)
class Unrolled:
    """Index maps of a time-augmented state space.

    Attributes:
        n_base: states before augmentation.
        horizon: number of decision steps.
        base_state: base state of each augmented state (-1 for "end").
        step: step of each augmented state (``horizon`` for "end").
    """

    n_base: int
    horizon: int
    base_state: Int[np.ndarray, " S"]
    step: Int[np.ndarray, " S"]

    @property
    def n_states(self) -> int:
        return self.n_base * self.horizon + 1

    @property
    def end(self) -> int:
        return self.n_base * self.horizon


def unroll_index(n_base: int, horizon: int) -> Unrolled:
    """The augmented state (s, t) has index ``t * n_base + s``; "end" is last."""
    base = np.concatenate([np.tile(np.arange(n_base), horizon), [-1]])
    step = np.concatenate([np.repeat(np.arange(horizon), n_base), [horizon]])
    return Unrolled(n_base, horizon, base.astype(np.int64), step.astype(np.int64))


def unroll_dynamics(
    u: Unrolled,
    next_state: Int[np.ndarray, "B A K"],
    prob: Float[np.ndarray, "B A K"],
    terminal: Bool[np.ndarray, " B"],
) -> tuple[Int[np.ndarray, "S A K"], Float[np.ndarray, "S A K"], Bool[np.ndarray, " S"]]:
    """Successor arrays and terminal flags of the augmented state space."""
    b, a, k = next_state.shape
    steps = np.arange(u.horizon)[:, None, None, None]
    nxt = (steps + 1) * b + next_state[None]
    nxt = np.where(steps + 1 < u.horizon, nxt, u.end).reshape(u.horizon * b, a, k)
    end_row = np.full((1, a, k), u.end)
    new_next = np.concatenate([nxt, end_row]).astype(np.int32)
    new_prob = np.concatenate([np.tile(prob, (u.horizon, 1, 1)), np.zeros((1, a, k))])
    new_prob[-1, :, 0] = 1.0
    new_terminal = np.concatenate([np.tile(terminal, u.horizon), [True]])
    return new_next, new_prob, new_terminal


def unroll_states(u: Unrolled, values: np.ndarray, fill: float | bool | int = 0) -> np.ndarray:
    """A per-state array (any trailing shape) repeated over steps, with ``fill`` at "end"."""
    tiled = np.concatenate([values] * u.horizon)
    tail = np.full((1, *values.shape[1:]), fill, dtype=values.dtype)
    return np.concatenate([tiled, tail])


def unroll_start(u: Unrolled, start: Float[np.ndarray, " B"]) -> Float[np.ndarray, " S"]:
    """Episodes start at step 0."""
    out = np.zeros(u.n_states)
    out[: u.n_base] = start
    return out
