"""The batched analysis of many small worlds as a compiled CPU loop (Numba): the same
program as `alignlens.solve.analyze_many`'s JAX one, step for step, one world at a time.

On a CPU the vmapped JAX program pays for its batching: every world of a vmapped step
waits for the slowest one in each loop (value-iteration sweeps, policy-iteration steps,
reachability fixed points), and every problem is padded to the largest. Here each world
stops as soon as its own loops converge, state sets are bit masks, and a deterministic
policy's values come from one Gaussian elimination over its live states. The numbers are
the same as the JAX program's within round-off (tests compare the two, and both with the
per-world path); which worlds are ``ok`` follows the same rules.

Worlds are independent, so the loop over them runs on Numba's threads (``prange``).
"""

from __future__ import annotations

from typing import no_type_check

import numba
import numpy as np

from alignlens.solve.extremes import CLOSE, SEARCH_LIMIT, SEARCH_WORK
from alignlens.solve.many import POLICY_STEPS, ROUND_OFF
from alignlens.solve.optimal_set import TIE

# Value-iteration sweeps before policy iteration, from zero and from the unrestricted
# optimum. Fewer than the JAX program's: a world here waits for no other, so one more
# exact evaluation costs only this world (tuned on 16-state worlds: 16 and 4 sweeps took
# 72 µs a world, 4 and 1 took 61 µs).
FIRST_SWEEPS = 4
WARM_SWEEPS = 1


@no_type_check
@numba.njit(cache=True)
def _reach(next_state, prob, terminal, sources, allowed):
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
def _unavoidable(next_state, prob, terminal, sources, allowed):
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
def _tied_choices(next_state, prob, terminal, sources, actions, reached, limit, max_visits):
    """(leaf masks [L, S, A], complete): `alignlens.solve.extremes.tied_choices` — masks
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
        seen = _reach(next_state, prob, terminal, sources, mask)
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
def _evaluate(next_state, prob, terminal, discount, policy, rewards):
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
def _evaluate_deterministic(next_state, prob, terminal, discount, policy, reward):
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
def _solve(next_state, prob, terminal, discount, reward, allowed, initial, margin, sweeps):
    """(values, Q, representative, converged): the best values under ``reward`` among
    allowed actions, as `alignlens.solve.many.solve` — ``sweeps`` of value iteration from
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
            values = _evaluate_deterministic(next_state, prob, terminal, discount, policy, reward)
            _q_values(next_state, prob, terminal, discount, reward, allowed, values, q)
    chosen = np.zeros(n_states, dtype=np.int64)
    for s in range(n_states):
        top = _row_max(q, s)
        for a in range(n_actions):
            if q[s, a] >= top - margin:
                chosen[s] = a
                break
    return values, q, chosen, converged


@no_type_check
@numba.njit(cache=True)
def _shared(next_state, prob, terminal, present):
    """Whether the environments share dynamics, as world assembly decides: they agree on
    terminality and on every transition distribution at every state both reach."""
    n_states, n_actions, n_succ = next_state.shape[1:]
    dense = np.zeros(n_states)
    for s in range(n_states):
        if not (present[0, s] and present[1, s]):
            continue
        if terminal[0, s] != terminal[1, s]:
            return False
        if terminal[0, s]:
            continue
        for a in range(n_actions):
            dense[:] = 0.0
            for k in range(n_succ):
                dense[next_state[0, s, a, k]] += prob[0, s, a, k]
            for k in range(n_succ):
                dense[next_state[1, s, a, k]] -= prob[1, s, a, k]
            if np.max(np.abs(dense)) > 1e-12:
                return False
    return True


@no_type_check
@numba.njit(cache=True)
def _margin(reward, discount):
    return ROUND_OFF * max(1.0, np.max(np.abs(reward)) / (1.0 - discount))


@no_type_check
@numba.njit(cache=True)
def _close(a, b, scale):
    return abs(a - b) <= CLOSE * max(1.0, scale)


@no_type_check
@numba.njit(cache=True)
def _one_world(
    next_state, prob, raw_terminal, start, reward, discount, policy, given, epsilon, inside, out
):
    """Every number of one world's analysis, written into ``out`` (the fields of
    `alignlens.solve.analyze_many.ManyNumbers` for this world)."""
    ok_out, shared_out, optimum, worst, random, returns, ranges, representative = out
    n_states, n_actions, _ = next_state.shape[1:]
    everything = np.ones((n_states, n_actions), dtype=np.bool_)
    present = np.empty((2, n_states), dtype=np.bool_)
    for e in range(2):
        present[e] = _reach(next_state[e], prob[e], raw_terminal[e], start[e] > 0, everything)
    shared = _shared(next_state, prob, raw_terminal, present)
    shared_out[0] = shared

    # 1. The distinct dynamics: one when shared (each state's rows from an environment
    #    that reaches it), else one per environment; unreachable states become terminal.
    n_envs = 1 if shared else 2
    n_succ = next_state.shape[3]
    ns = np.empty((n_envs, n_states, n_actions, n_succ), dtype=next_state.dtype)
    pr = np.empty((n_envs, n_states, n_actions, n_succ))
    term = np.empty((n_envs, n_states), dtype=np.bool_)
    if shared:
        for s in range(n_states):
            e = 0 if present[0, s] else 1
            ns[0, s] = next_state[e, s]
            pr[0, s] = prob[e, s]
            term[0, s] = (
                (raw_terminal[0, s] and present[0, s])
                or (raw_terminal[1, s] and present[1, s])
                or not (present[0, s] or present[1, s])
            )
    else:
        for e in range(2):
            ns[e] = next_state[e]
            pr[e] = prob[e]
            term[e] = raw_terminal[e] | ~present[e]
    t, d = 0, n_envs - 1  # the dynamics of training and of deployment
    mixture = (1.0 - inside) * start[0] + inside * start[1]
    margins = (_margin(reward[0], discount), _margin(reward[1], discount))
    converged = True

    # 2. Best and worst values of R (f = 0) and U (f = 1) in each dynamics, in the sign's
    #    terms (index 0: the best, of +reward; 1: the worst, as the best of −reward).
    best = np.empty((n_envs, 2, 2, n_states))
    best_q = np.empty((n_envs, 2, n_states, n_actions))  # of +reward only
    zero = np.zeros(n_states)
    for e in range(n_envs):
        for f in range(2):
            for i, sign in enumerate((1.0, -1.0)):
                values, q, _, done = _solve(
                    ns[e], pr[e], term[e], discount, sign * reward[f], everything, zero,
                    margins[f], FIRST_SWEEPS,
                )  # fmt: skip
                converged &= done
                best[e, f, i] = values
                if i == 0:
                    best_q[e, f] = q
    for env in range(2):
        e = t if env == 0 else d
        for f in range(2):
            optimum[env, f] = start[env] @ best[e, f, 0]
            worst[env, f] = -(start[env] @ best[e, f, 1])

    # 3. Optimal sets of R: ε-optimal actions, and the states they reach.
    def optimal_set(e, begin):
        v, q = best[e, 0, 0], best_q[e, 0]
        top, bottom = begin @ v, -(begin @ best[e, 0, 1])
        tie = top - bottom <= TIE * max(1.0, abs(top))
        tolerance = max(
            epsilon * (top - bottom) * (1.0 - discount), ROUND_OFF * max(1.0, np.max(np.abs(v)))
        )  # ε·(V* − W)/T, T = 1/(1 − γ) (`alignlens.solve.optimal_set`)
        actions = np.empty((n_states, n_actions), dtype=np.bool_)
        for s in range(n_states):
            for a in range(n_actions):
                actions[s, a] = tie or q[s, a] >= v[s] - tolerance or term[e, s]
        reached = _reach(ns[e], pr[e], term[e], begin > 0, actions)
        witness = actions.copy()
        for s in range(n_states):
            if not reached[s]:
                witness[s] = True
        return actions, reached, witness

    actions_t, reached_t, witness_t = optimal_set(t, start[0])
    _, _, witness_d = optimal_set(d, start[1])
    unavoided = _unavoidable(ns[t], pr[t], term[t], start[0] > 0, actions_t)
    sound_t = actions_t.copy()
    for s in range(n_states):
        if not unavoided[s]:
            sound_t[s] = True

    # 4. Restricted extremes, warm-started from step 2: the lowest and highest values
    #    over a mask (in the objective's own terms) and the lowest's representative.
    def extent(mask, e, f):
        low, _, low_policy, done_low = _solve(
            ns[e], pr[e], term[e], discount, -reward[f], mask, best[e, f, 1], margins[f],
            WARM_SWEEPS,
        )  # fmt: skip
        high, _, _, done_high = _solve(
            ns[e], pr[e], term[e], discount, reward[f], mask, best[e, f, 0], margins[f],
            WARM_SWEEPS,
        )  # fmt: skip
        return -low, high, low_policy, done_low and done_high

    def write(row, low, high, begin):
        ranges[row, 0] = begin @ low
        ranges[row, 1] = begin @ high

    low, high, picked, done = extent(witness_t, d, 1)
    converged &= done
    write(0, low, high, start[1])
    if shared:  # the same problem in training, from the training start
        write(2, low, high, start[0])
    else:
        low, high, _, done = extent(witness_t, t, 1)
        converged &= done
        write(2, low, high, start[0])
    low, high, _, done = extent(witness_t, d, 0)
    converged &= done
    write(1, low, high, start[1])
    sound = np.empty((2, 2))  # [objective (R, U), (min, max)] over the sound mask
    for f in range(2):
        low, high, _, done = extent(sound_t, d, f)
        converged &= done
        sound[f, 0], sound[f, 1] = start[1] @ low, start[1] @ high
    low, high, _, done = extent(witness_d, d, 1)
    converged &= done
    write(3, low, high, start[1])
    if shared:
        _, _, witness_m = optimal_set(t, mixture)
        low, high, _, done = extent(witness_m, d, 1)
        converged &= done
        write(4, low, high, start[1])
    else:
        ranges[4, 0], ranges[4, 1] = np.nan, np.nan

    # The witness extremes are exact when no loose state (reached, avoidable, with a
    # choice) is reachable in deployment under the sound mask, or with shared dynamics
    # and no new start; else they must meet the sound bounds.
    deployed = _reach(ns[d], pr[d], term[d], start[1] > 0, sound_t)
    same_start = True
    for s in range(n_states):
        if start[1, s] > 0 and not start[0, s] > 0:
            same_start = False
    exact = shared and same_start
    if not exact:
        exact = True
        for s in range(n_states):
            if reached_t[s] and not unavoided[s] and not np.all(actions_t[s]) and deployed[s]:
                exact = False
    settled = np.empty(2, dtype=np.bool_)  # [R, U]: the witness extremes are exact
    for f in range(2):
        row = 1 - f  # (train, deploy, U) is row 0, (train, deploy, R) row 1
        scale = max(abs(sound[f, 0]), abs(sound[f, 1]))
        settled[f] = exact or (
            _close(ranges[row, 0], sound[f, 0], scale)
            and _close(ranges[row, 1], sound[f, 1], scale)
        )
    # The worst-deployment pick needs the witness minimum to meet the sound bound.
    pick_settled = given or _close(ranges[0, 0], sound[1, 0], abs(sound[1, 0]))
    pick_mask = witness_t
    ok = converged
    if not (settled[0] and settled[1] and pick_settled):
        # A search over the tied optimal choices that lead to different states settles
        # them exactly, as the per-world path does (`alignlens.solve.extremes`): the
        # extremes over the leaves, and the first leaf within round-off of the minimum.
        work = max(16, SEARCH_WORK // next_state[0].size)
        leaves, complete = _tied_choices(
            ns[t], pr[t], term[t], start[0] > 0, actions_t, reached_t,
            SEARCH_LIMIT, min(8 * SEARCH_LIMIT, work),
        )  # fmt: skip
        extremes = np.empty((leaves.shape[0], 2, 2))  # [leaf, objective, (min, max)]
        picks = np.empty((leaves.shape[0], n_states), dtype=np.int64)
        for i in range(leaves.shape[0]):
            for f in range(2):
                if f == 0 and settled[0]:
                    continue
                low, high, chosen, done = extent(leaves[i], d, f)
                ok &= done
                if f == 1:
                    picks[i] = chosen
                extremes[i, f, 0], extremes[i, f, 1] = start[1] @ low, start[1] @ high
        ok &= complete
        if complete:
            for f in range(2):
                if not settled[f]:
                    ranges[1 - f, 0] = np.min(extremes[:, f, 0])
                    ranges[1 - f, 1] = np.max(extremes[:, f, 1])
            if not pick_settled:
                target = np.min(extremes[:, 1, 0])
                for i in range(leaves.shape[0]):
                    if _close(extremes[i, 1, 0], target, abs(target)):
                        picked, pick_mask = picks[i], leaves[i]
                        break

    # 5. The learned policy and the uniformly random one. Where deployment ends (or never
    #    goes) but training does not, take the first action its optimal mask allows.
    for s in range(n_states):
        representative[s] = picked[s]
        if term[d, s] and not term[t, s]:
            representative[s] = np.argmax(pick_mask[s])
    if given:
        learned = policy
    else:
        learned = np.zeros((n_states, n_actions))
        for s in range(n_states):
            learned[s, representative[s]] = 1.0
    ok_out[0] = ok
    uniform = np.full((n_states, n_actions), 1.0 / n_actions)
    _returns_into(ns, pr, term, t, d, discount, uniform, reward, start, random)
    _returns_into(ns, pr, term, t, d, discount, learned, reward, start, returns)


@no_type_check
@numba.njit(cache=True)
def _returns_into(next_state, prob, terminal, t, d, discount, policy, reward, start, into):
    """A policy's exact returns [env, objective] into ``into``, with dynamics ``t`` in
    training and ``d`` in deployment."""
    values = _evaluate(next_state[t], prob[t], terminal[t], discount, policy, reward)
    for f in range(2):
        into[0, f] = start[0] @ values[f]
    if d != t:
        values = _evaluate(next_state[d], prob[d], terminal[d], discount, policy, reward)
    for f in range(2):
        into[1, f] = start[1] @ values[f]


@no_type_check
@numba.njit(parallel=True, cache=True)
def _analyse(
    next_state, prob, terminal, start, reward, discount, policies, given, epsilon, inside, out
):
    ok, shared, optimum, worst, random, returns, ranges, representative = out
    for i in numba.prange(next_state.shape[0]):
        _one_world(
            next_state[i], prob[i], terminal[i], start[i], reward[i], discount[i], policies[i],
            given, epsilon, inside,
            (ok[i : i + 1], shared[i : i + 1], optimum[i], worst[i], random[i], returns[i],
             ranges[i], representative[i]),
        )  # fmt: skip


def numbers_compiled(
    next_state: np.ndarray,
    prob: np.ndarray,
    terminal: np.ndarray,
    start: np.ndarray,
    reward: np.ndarray,
    discount: np.ndarray,
    policies: np.ndarray | None,
    epsilon: float,
    inside: float,
) -> tuple[np.ndarray, ...]:
    """The fields of `ManyNumbers` (ok, shared, optimum, worst, random, returns, ranges,
    policy) for stacked worlds, with the learned policy ``policies`` (action
    probabilities) or, when None, the exhaustive worst-deployment representative."""
    n_worlds, _, n_states, n_actions, _ = next_state.shape
    given = policies is not None
    if policies is None:
        policies = np.zeros((n_worlds, n_states, n_actions))
    out = (
        np.zeros(n_worlds, dtype=np.bool_),
        np.zeros(n_worlds, dtype=np.bool_),
        np.zeros((n_worlds, 2, 2)),
        np.zeros((n_worlds, 2, 2)),
        np.zeros((n_worlds, 2, 2)),
        np.zeros((n_worlds, 2, 2)),
        np.zeros((n_worlds, 5, 2)),
        np.zeros((n_worlds, n_states), dtype=np.int64),
    )
    _analyse(
        np.ascontiguousarray(next_state, dtype=np.int64),
        np.ascontiguousarray(prob, dtype=np.float64),
        np.ascontiguousarray(terminal, dtype=np.bool_),
        np.ascontiguousarray(start, dtype=np.float64),
        np.ascontiguousarray(reward, dtype=np.float64),
        np.ascontiguousarray(discount, dtype=np.float64),
        np.ascontiguousarray(policies, dtype=np.float64),
        given,
        float(epsilon),
        float(inside),
        out,
    )
    return out
