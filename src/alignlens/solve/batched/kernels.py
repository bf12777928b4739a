"""Exact solutions of one small world at a time: the compiled (Numba) kernels of the
batched analysis (`alignlens.solve.batched.program`).

Each works on one world in the successor format ([S, A, K]) and stops as soon as its own
loops converge:

- `solve`: the best values under a reward among allowed actions — value-iteration
  sweeps, then policy iteration with exact evaluations until no allowed action improves a
  live state beyond a round-off margin (the stopping rule and representative of
  `alignlens.solve.exact.optimum.optimize`); a warm start that is already optimal returns
  at once;
- `evaluate` and `evaluate_deterministic`: exact values of a policy, by Gaussian
  elimination over the live states;
- `reach`, `unavoidable` and `tied_choices`: the state sets and tied-choice masks of
  optimal sets (`alignlens.solve.exact.reachability`, `alignlens.solve.exact.extremes`),
  with sets of states as 64-bit masks where that helps.
"""

from __future__ import annotations

from typing import no_type_check

import numba
import numpy as np

POLICY_STEPS = 100  # policy iteration on these worlds converges in a handful


@no_type_check
@numba.njit(cache=True)
def reach(next_state, prob, terminal, sources, allowed):
    """States reachable from ``sources`` using allowed actions (a stack search)."""
    n_states, n_actions, n_succ = next_state.shape
    seen = sources.copy()
    stack = np.empty(n_states, dtype=np.int64)
    top = 0
    for s in range(n_states):
        if seen[s]:
            stack[top] = s
            top += 1
    while top > 0:
        top -= 1
        s = stack[top]
        if terminal[s]:
            continue
        for a in range(n_actions):
            if not allowed[s, a]:
                continue
            for k in range(n_succ):
                t = next_state[s, a, k]
                if prob[s, a, k] > 0 and not seen[t]:
                    seen[t] = True
                    stack[top] = t
                    top += 1
    return seen


@no_type_check
@numba.njit(cache=True)
def unavoidable(next_state, prob, terminal, sources, allowed):
    """States every policy restricted to ``allowed`` reaches from ``sources``: for each
    target t, the greatest fixed point of the states from which some allowed strategy
    avoids t, as bit masks over targets (``away[s, w]``, 64 targets a word)."""
    n_states, n_actions, n_succ = next_state.shape
    words = (n_states + 63) // 64
    one = np.uint64(1)  # every shift in unsigned 64-bit arithmetic (mixed types give floats)
    full = np.empty(words, dtype=np.uint64)
    for w in range(words):
        left = n_states - 64 * w
        full[w] = ~np.uint64(0) if left >= 64 else (one << np.uint64(left)) - one
    away = np.empty((n_states, words), dtype=np.uint64)
    for s in range(n_states):
        away[s] = full
        away[s, s // 64] &= ~(one << np.uint64(s % 64))
    safe = np.empty(words, dtype=np.uint64)
    ok = np.empty(words, dtype=np.uint64)
    changed = True
    while changed:
        changed = False
        for s in range(n_states):
            if terminal[s]:
                continue  # avoids every target but itself, as initialised
            ok[:] = 0
            for a in range(n_actions):
                if not allowed[s, a]:
                    continue
                safe[:] = full
                for k in range(n_succ):
                    if prob[s, a, k] > 0:
                        safe &= away[next_state[s, a, k]]
                ok |= safe
            for w in range(words):
                new = away[s, w] & ok[w]
                if new != away[s, w]:
                    away[s, w] = new
                    changed = True
    out = sources.copy()
    for s in range(n_states):
        if sources[s]:
            for t in range(n_states):
                if not (away[s, t // 64] >> np.uint64(t % 64)) & one:
                    out[t] = True
    return out


@no_type_check
@numba.njit(cache=True)
def tied_choices(next_state, prob, terminal, sources, actions, reached, limit, max_visits):
    """(leaf masks [L, S, A], complete): `alignlens.solve.exact.extremes.tied_choices` — masks
    whose union is Opt, one per way of choosing among tied optimal actions that lead to
    different states, in the same order; not complete beyond ``limit`` leaves or
    ``max_visits`` partial choices.

    At a branching state the optimal actions fall into groups by the set of states they
    can lead to (in the order of their first action); a choice fixes one group at every
    branching state it reaches, depth first, the last group first."""
    n_states, n_actions, n_succ = next_state.shape
    words = (n_states + 63) // 64
    one = np.uint64(1)
    group = np.full((n_states, n_actions), -1, dtype=np.int64)
    n_groups = np.zeros(n_states, dtype=np.int64)
    supports = np.zeros((n_actions, words), dtype=np.uint64)
    support = np.zeros(words, dtype=np.uint64)
    for s in range(n_states):
        if not reached[s] or terminal[s] or np.sum(actions[s]) < 2:
            continue
        count = 0
        for a in range(n_actions):
            if not actions[s, a]:
                continue
            support[:] = 0
            for k in range(n_succ):
                if prob[s, a, k] > 0:
                    t = next_state[s, a, k]
                    support[t // 64] |= one << np.uint64(t % 64)
            g = 0
            while g < count and not np.all(supports[g] == support):
                g += 1
            if g == count:
                supports[g] = support
                count += 1
            group[s, a] = g
        if count > 1:
            n_groups[s] = count
        else:
            group[s] = -1
    leaves = np.empty((limit, n_states, n_actions), dtype=np.bool_)
    stack = np.empty((1 + max_visits * n_actions, n_states), dtype=np.int16)
    stack[0] = -1  # no group chosen anywhere
    top, n_leaves, visits = 1, 0, 0
    mask = np.empty((n_states, n_actions), dtype=np.bool_)
    while top > 0:
        visits += 1
        if visits > max_visits:
            return leaves[:0], False
        top -= 1
        choice = stack[top].copy()
        for s in range(n_states):
            for a in range(n_actions):
                mask[s, a] = actions[s, a] and (n_groups[s] == 0 or group[s, a] == choice[s])
        seen = reach(next_state, prob, terminal, sources, mask)
        pending = -1
        for s in range(n_states):
            if n_groups[s] > 0 and seen[s] and choice[s] < 0:
                pending = s
                break
        if pending >= 0:
            for g in range(n_groups[pending]):
                stack[top] = choice
                stack[top, pending] = g
                top += 1
            continue
        if n_leaves == limit:
            return leaves[:0], False
        for s in range(n_states):
            for a in range(n_actions):
                leaves[n_leaves, s, a] = mask[s, a] or not seen[s]
        n_leaves += 1
    return leaves[:n_leaves], True


@no_type_check
@numba.njit(cache=True)
def _system(terminal, n_rhs):
    """The position of each live state among the live ones (−1 at terminal states), and
    a zero augmented system [I − γP | r] over them, with ``n_rhs`` right-hand sides."""
    position = np.full(terminal.size, -1, dtype=np.int64)
    n = 0
    for s in range(terminal.size):
        if not terminal[s]:
            position[s] = n
            n += 1
    system = np.zeros((n, n + n_rhs))
    for i in range(n):
        system[i, i] = 1.0
    return position, system


@no_type_check
@numba.njit(cache=True)
def _solve_system(system, position):
    """The values [R, S] solving an augmented system of `_system` (0 at terminal states),
    by Gaussian elimination without pivoting (I − γP is strictly diagonally dominant by
    rows, for γ < 1)."""
    n = system.shape[0]
    width = system.shape[1]
    for k in range(n):
        pivot = system[k, k]
        for i in range(k + 1, n):
            if system[i, k] == 0.0:
                continue
            factor = system[i, k] / pivot
            for j in range(k, width):
                system[i, j] -= factor * system[k, j]
    for i in range(n - 1, -1, -1):
        for f in range(n, width):
            acc = system[i, f]
            for j in range(i + 1, n):
                acc -= system[i, j] * system[j, f]
            system[i, f] = acc / system[i, i]
    values = np.zeros((width - n, position.size))
    for s in range(position.size):
        if position[s] >= 0:
            for f in range(width - n):
                values[f, s] = system[position[s], n + f]
    return values


@no_type_check
@numba.njit(cache=True)
def evaluate(next_state, prob, terminal, discount, policy, rewards):
    """V^π of each reward for a stochastic policy [R, S] (0 at terminal states)."""
    n_states, n_actions, n_succ = next_state.shape
    position, system = _system(terminal, rewards.shape[0])
    n = system.shape[0]
    for s in range(n_states):
        i = position[s]
        if i < 0:
            continue
        for a in range(n_actions):
            w = policy[s, a]
            if w == 0.0:
                continue
            for f in range(rewards.shape[0]):
                system[i, n + f] += w * rewards[f, s, a]
            for k in range(n_succ):
                j = position[next_state[s, a, k]]
                if j >= 0:
                    system[i, j] -= discount * w * prob[s, a, k]
    return _solve_system(system, position)


@no_type_check
@numba.njit(cache=True)
def evaluate_deterministic(next_state, prob, terminal, discount, policy, reward):
    """V^π of a deterministic policy (action indices) under one reward [S]."""
    n_states, _, n_succ = next_state.shape
    position, system = _system(terminal, 1)
    n = system.shape[0]
    for s in range(n_states):
        i = position[s]
        if i < 0:
            continue
        a = policy[s]
        system[i, n] = reward[s, a]
        for k in range(n_succ):
            j = position[next_state[s, a, k]]
            if j >= 0:
                system[i, j] -= discount * prob[s, a, k]
    return _solve_system(system, position)[0]


@no_type_check
@numba.njit(cache=True)
def _q_values(next_state, prob, terminal, discount, reward, allowed, values, q):
    """Q under ``reward`` from ``values`` into ``q`` (0 at terminal states, −∞ at actions
    not allowed elsewhere)."""
    n_states, n_actions, n_succ = next_state.shape
    for s in range(n_states):
        for a in range(n_actions):
            if terminal[s]:
                q[s, a] = 0.0
            elif not allowed[s, a]:
                q[s, a] = -np.inf
            else:
                acc = 0.0
                for k in range(n_succ):
                    acc += prob[s, a, k] * values[next_state[s, a, k]]
                q[s, a] = reward[s, a] + discount * acc


@no_type_check
@numba.njit(cache=True)
def _row_max(q, s):
    best = q[s, 0]
    for a in range(1, q.shape[1]):
        best = max(best, q[s, a])
    return best


@no_type_check
@numba.njit(cache=True)
def _row_argmax(q, s):
    best, at = q[s, 0], 0
    for a in range(1, q.shape[1]):
        if q[s, a] > best:
            best, at = q[s, a], a
    return at


@no_type_check
@numba.njit(cache=True)
def solve(next_state, prob, terminal, discount, reward, allowed, initial, margin, sweeps):
    """(values, Q, representative, converged): the best values under ``reward`` among
    allowed actions, — ``sweeps`` of value iteration from
    ``initial``, then policy iteration until no allowed action improves a live state by
    more than ``margin``; the representative takes the first action within the margin.

    When ``initial`` already holds exact values that no allowed action improves or falls
    short of by more than the margin at any live state (a warm start from the
    unrestricted optimum whose optimal actions the mask allows), they are the answer and
    nothing is solved."""
    n_states, n_actions, _ = next_state.shape
    q = np.empty((n_states, n_actions))
    values = initial.copy()
    _q_values(next_state, prob, terminal, discount, reward, allowed, values, q)
    settled = True
    for s in range(n_states):
        if not terminal[s] and abs(_row_max(q, s) - values[s]) > margin:
            settled = False
            break
    converged = settled
    if not settled:
        for _ in range(sweeps):
            for s in range(n_states):
                values[s] = 0.0 if terminal[s] else _row_max(q, s)
            _q_values(next_state, prob, terminal, discount, reward, allowed, values, q)
        policy = np.zeros(n_states, dtype=np.int64)
        for s in range(n_states):
            if not terminal[s]:
                policy[s] = _row_argmax(q, s)
        for step in range(POLICY_STEPS + 2):  # an evaluation, then at most POLICY_STEPS
            if step > 0:  # improvements, each evaluated
                better = False
                for s in range(n_states):
                    if not terminal[s] and _row_max(q, s) > values[s] + margin:
                        better = True
                        policy[s] = _row_argmax(q, s)
                if not better:
                    converged = True
                    break
                if step > POLICY_STEPS:
                    break
            values = evaluate_deterministic(next_state, prob, terminal, discount, policy, reward)
            _q_values(next_state, prob, terminal, discount, reward, allowed, values, q)
    chosen = np.zeros(n_states, dtype=np.int64)
    for s in range(n_states):
        top = _row_max(q, s)
        for a in range(n_actions):
            if q[s, a] >= top - margin:
                chosen[s] = a
                break
    return values, q, chosen, converged
