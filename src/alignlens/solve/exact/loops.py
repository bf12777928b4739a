"""The per-world solvers' loops over states, compiled by Numba: the Bellman sweeps of
`alignlens.solve.exact.backup` and the one-walk evaluations of `alignlens.solve.exact.chain`.

Only worlds too large for NumPy's vectorised forms reach these loops, so they alone pay
for importing Numba and loading the compiled code (from Numba's cache after the first
run); a small world is solved without Numba.
"""

from __future__ import annotations

from typing import no_type_check

import numba
import numpy as np

FASTMATH = {"nnan", "ninf", "nsz"}  # no reassociation: sums stay in slot order
UNSEEN, ON_PATH, DONE = 0, 1, 2


@no_type_check
@numba.njit(fastmath=FASTMATH, cache=True, inline="always")
def backup(s, next_state, prob, reward, values, discount, terminal, allowed, use_mask):
    """The Bellman backup of state ``s``: the best allowed action's r + γ Σ p·V (0 at a
    terminal state)."""
    if terminal[s]:
        return 0.0
    n_actions, n_succ = next_state.shape[1], next_state.shape[2]
    best = -np.inf
    for a in range(n_actions):
        if use_mask and not allowed[s, a]:
            continue
        acc = 0.0
        for k in range(n_succ):
            acc += prob[s, a, k] * values[next_state[s, a, k]]
        best = max(best, reward[s, a] + discount * acc)
    return best


@no_type_check
@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def sweep(next_state, prob, reward, values, discount, terminal, allowed, use_mask, out):
    n_states = next_state.shape[0]
    hi = -np.inf
    lo = np.inf
    for s in numba.prange(n_states):
        best = backup(s, next_state, prob, reward, values, discount, terminal, allowed, use_mask)
        out[s] = best
        d = best - values[s]
        hi = max(hi, d)
        lo = min(lo, d)
    return hi, lo


@no_type_check
@numba.njit(parallel=True, fastmath=FASTMATH, cache=True)
def sweep_deterministic(next_state, reward, values, discount, terminal, allowed, use_mask, out):
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


@no_type_check
@numba.njit(fastmath=FASTMATH, cache=True)
def backward_sweep(next_state, prob, reward, discount, terminal, allowed, use_mask, values):
    """Backward induction in one pass: states from last to first, each from its
    successors' final values (every successor of a state has a larger index)."""
    for s in range(next_state.shape[0] - 1, -1, -1):
        values[s] = backup(
            s, next_state, prob, reward, values, discount, terminal, allowed, use_mask
        )


@no_type_check
@numba.njit(cache=True)
def chain_walk(successor, reward, discount, values):
    n = successor.shape[0]
    mark = np.zeros(n, np.int8)
    path = np.empty(n, np.int64)
    for first in range(n):
        if mark[first] != UNSEEN:
            continue
        top = 0
        s = first
        while s >= 0 and mark[s] == UNSEEN:  # walk forward until a known state or an end
            mark[s] = ON_PATH
            path[top] = s
            top += 1
            s = successor[s]
        if s >= 0 and mark[s] == ON_PATH:  # the walk closed a cycle: path[i:top]
            i = top - 1
            while path[i] != s:
                i -= 1
            length = top - i
            loop = discount**length
            if loop >= 1.0:
                return False  # an undiscounted cycle has no finite value
            total = 0.0
            weight = 1.0
            for j in range(length):
                total += weight * reward[path[i + j]]
                weight *= discount
            values[s] = total / (1.0 - loop)
            mark[s] = DONE
            following = values[s]
            for j in range(top - 1, i, -1):
                t = path[j]
                values[t] = reward[t] + discount * following
                following = values[t]
                mark[t] = DONE
            top = i
        while top > 0:  # unwind the tree part of the path, each state after its successor
            top -= 1
            t = path[top]
            after = successor[t]
            values[t] = reward[t] + discount * (values[after] if after >= 0 else 0.0)
            mark[t] = DONE
    return True


@no_type_check
@numba.njit(cache=True)
def acyclic_walk(indptr, indices, weights, reward, discount, values):
    n = indptr.shape[0] - 1
    mark = np.zeros(n, np.int8)
    stack = np.empty(n, np.int64)
    edge = np.empty(n, np.int64)  # the next transition to look at, per stacked state
    for root in range(n):
        if mark[root] != UNSEEN:
            continue
        stack[0] = root
        edge[0] = indptr[root]
        mark[root] = ON_PATH
        top = 1
        while top > 0:
            s = stack[top - 1]
            e = edge[top - 1]
            if e < indptr[s + 1]:
                edge[top - 1] = e + 1
                t = indices[e]
                if t == s or mark[t] == DONE:
                    continue
                if mark[t] == ON_PATH:
                    return False  # a cycle through other states: not this method
                stack[top] = t
                edge[top] = indptr[t]
                mark[t] = ON_PATH
                top += 1
                continue
            total = reward[s]
            stay = 0.0
            for f in range(indptr[s], indptr[s + 1]):
                t = indices[f]
                if t == s:
                    stay += weights[f]
                else:
                    total += discount * weights[f] * values[t]
            if discount * stay >= 1.0:
                return False  # an undiscounted self-loop has no finite value
            values[s] = total / (1.0 - discount * stay)
            mark[s] = DONE
            top -= 1
    return True
