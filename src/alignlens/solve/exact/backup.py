"""The Bellman backup in the successor format: a gather and a reduction.

``V'(s) = max_{a allowed at s} r(s, a) + γ Σ_k prob[s, a, k] · V(next[s, a, k])``, with
V = 0 at terminal states. A small world (at most `SMALL` successor slots) is swept by
NumPy's vectorised form, which needs no compiler. A larger one runs a fused,
multi-threaded compiled loop (Numba, `alignlens.solve.exact.loops`), because XLA on a
small CPU stays well above the memory-bandwidth floor; that loop skips the probabilities
of a deterministic world (K = 1), which are then all 1.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float

from alignlens.world.model import Environment

SMALL = 2**15  # successor slots (S·A·K) up to which NumPy's vectorised sweep is used

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
    if env.next_state.size <= SMALL:
        return _numpy_sweep(env, reward, values, out, allowed)
    from alignlens.solve.exact import loops  # Numba, imported by the worlds that need it

    mask = _NO_MASK if allowed is None else allowed
    if env.next_state.shape[2] == 1:
        hi, lo = loops.sweep_deterministic(
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
        hi, lo = loops.sweep(
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


def _numpy_sweep(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    values: Float[np.ndarray, " S"],
    out: Float[np.ndarray, " S"],
    allowed: Bool[np.ndarray, "S A"] | None,
) -> tuple[float, float]:
    """`bellman_sweep` for a small world, vectorised."""
    q = q_values(env, reward, values)
    if allowed is not None:
        q = np.where(allowed, q, -np.inf)
    out[:] = np.where(env.terminal, 0.0, q.max(axis=1))
    change = out - values
    return float(change.max(initial=-np.inf)), float(change.min(initial=np.inf))


def q_values(
    env: Environment, reward: Float[np.ndarray, "S A"], values: Float[np.ndarray, " S"]
) -> Float[np.ndarray, "S A"]:
    """Q(s, a) = r(s, a) + γ E[V(s')]; zero at terminal states."""
    q = reward + env.discount * np.einsum("sak,sak->sa", env.prob, values[env.next_state])
    q[env.terminal] = 0.0
    return q
