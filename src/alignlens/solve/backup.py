"""The Bellman backup in the successor format: a gather and a reduction.

``V'(s) = max_{a allowed at s} r(s, a) + γ Σ_k prob[s, a, k] · V(next[s, a, k])``, with
V = 0 at terminal states. On the CPU this runs as a fused, multi-threaded compiled loop
(Numba), because XLA on a small CPU stays well above the memory-bandwidth floor; the
same backup in JAX (`alignlens.solve.backup_jax`) serves batches of worlds and GPUs
(tested on the CPU so far).
A deterministic world (K = 1) skips the probabilities, which are then all 1.
"""

from __future__ import annotations

from typing import no_type_check

import numba
import numpy as np
from jaxtyping import Bool, Float

from alignlens.world.model import Environment

_FASTMATH = {"nnan", "ninf", "nsz"}  # no reassociation: sums stay in slot order


@no_type_check
@numba.njit(parallel=True, fastmath=_FASTMATH, cache=True)
def _sweep(next_state, prob, reward, values, discount, terminal, allowed, use_mask, out):
    n_states, n_actions, n_succ = next_state.shape
    hi = -np.inf
    lo = np.inf
    for s in numba.prange(n_states):
        best = 0.0
        if not terminal[s]:
            best = -np.inf
            for a in range(n_actions):
                if use_mask and not allowed[s, a]:
                    continue
                acc = 0.0
                for k in range(n_succ):
                    acc += prob[s, a, k] * values[next_state[s, a, k]]
                best = max(best, reward[s, a] + discount * acc)
        out[s] = best
        d = best - values[s]
        hi = max(hi, d)
        lo = min(lo, d)
    return hi, lo


@no_type_check
@numba.njit(parallel=True, fastmath=_FASTMATH, cache=True)
def _sweep_deterministic(next_state, reward, values, discount, terminal, allowed, use_mask, out):
    n_states, n_actions, _ = next_state.shape
    hi = -np.inf
    lo = np.inf
    for s in numba.prange(n_states):
        best = 0.0
        if not terminal[s]:
            best = -np.inf
            for a in range(n_actions):
                if use_mask and not allowed[s, a]:
                    continue
                best = max(best, reward[s, a] + discount * values[next_state[s, a, 0]])
        out[s] = best
        d = best - values[s]
        hi = max(hi, d)
        lo = min(lo, d)
    return hi, lo


_NO_MASK = np.ones((1, 1), dtype=np.bool_)


def bellman_sweep(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    values: Float[np.ndarray, " S"],
    out: Float[np.ndarray, " S"],
    allowed: Bool[np.ndarray, "S A"] | None = None,
) -> tuple[float, float]:
    """One backup of ``values`` into ``out``; returns max and min of ``out - values``.

    ``allowed`` restricts the maximisation to some actions per state (every state needs
    at least one). Arrays must be C-contiguous float64 (see `prepare`).
    """
    mask = _NO_MASK if allowed is None else allowed
    if env.next_state.shape[2] == 1:
        hi, lo = _sweep_deterministic(
            env.next_state,
            reward,
            values,
            env.discount,
            env.terminal,
            mask,
            allowed is not None,
            out,
        )
    else:
        hi, lo = _sweep(
            env.next_state,
            env.prob,
            reward,
            values,
            env.discount,
            env.terminal,
            mask,
            allowed is not None,
            out,
        )
    return float(hi), float(lo)


def q_values(
    env: Environment, reward: Float[np.ndarray, "S A"], values: Float[np.ndarray, " S"]
) -> Float[np.ndarray, "S A"]:
    """Q(s, a) = r(s, a) + γ E[V(s')]; zero at terminal states."""
    q = reward + env.discount * np.einsum("sak,sak->sa", env.prob, values[env.next_state])
    q[env.terminal] = 0.0
    return q
