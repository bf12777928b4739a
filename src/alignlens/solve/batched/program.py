"""The batched analysis as a compiled CPU loop over worlds (Numba): the per-world
program, step for step, one world at a time on all cores (``prange``).

Each world stops as soon as its own loops converge, state sets are bit masks, and a
deterministic policy's values come from one Gaussian elimination over its live states
(the kernels are in `alignlens.solve.batched.kernels`). Where the witness and sound
extremes differ, it runs the per-world path's search over tied optimal choices. Tests
compare every number with the per-world path.
"""

from __future__ import annotations

from typing import no_type_check

import numba
import numpy as np
from jaxtyping import Float

from alignlens.analysis import TIE
from alignlens.solve.batched.kernels import evaluate, reach, solve, tied_choices, unavoidable
from alignlens.solve.batched.stacked import ManyNumbers, StackedWorlds
from alignlens.solve.exact.extremes import CLOSE, SEARCH_LIMIT, SEARCH_WORK
from alignlens.solve.exact.optimal_set import RESOLVED
from alignlens.solve.exact.optimum import ROUND_OFF

# Value-iteration sweeps before policy iteration, from zero and from the unrestricted
# optimum (tuned on 16-state worlds: 16 and 4 sweeps took 72 µs a world, 4 and 1 took
# 61 µs).
FIRST_SWEEPS = 4
WARM_SWEEPS = 1


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
    `alignlens.solve.batched.analyze.ManyNumbers` for this world)."""
    ok_out, shared_out, optimum, worst, random, returns, ranges, representative = out
    n_states, n_actions, _ = next_state.shape[1:]
    everything = np.ones((n_states, n_actions), dtype=np.bool_)
    present = np.empty((2, n_states), dtype=np.bool_)
    for e in range(2):
        present[e] = reach(next_state[e], prob[e], raw_terminal[e], start[e] > 0, everything)
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
                values, q, _, done = solve(
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
    #    As in `alignlens.solve.exact.optimal_set.optimal_actions`, an action whose gap lies
    #    between ε's bound and round-off, where a member can go, is in doubt; if round-off
    #    could then admit more regret than ε over an episode of T steps, the world is left
    #    to the per-world path, which bounds it by the longest lifetime or refuses it.
    def optimal_set(e, begin):
        v, q = best[e, 0, 0], best_q[e, 0]
        top, bottom = begin @ v, -(begin @ best[e, 0, 1])
        tie = top - bottom <= TIE * max(1.0, abs(top))
        strict = epsilon * (top - bottom) * (1.0 - discount)  # ε·(V* − W)/T, T = 1/(1 − γ)
        round_off = ROUND_OFF * max(1.0, np.max(np.abs(v)))
        tolerance = max(strict, round_off)
        actions = np.empty((n_states, n_actions), dtype=np.bool_)
        for s in range(n_states):
            for a in range(n_actions):
                actions[s, a] = tie or q[s, a] >= v[s] - tolerance or term[e, s]
        reached = reach(ns[e], pr[e], term[e], begin > 0, actions)
        witness = actions.copy()
        for s in range(n_states):
            if not reached[s]:
                witness[s] = True
        doubtful = False
        if not tie and round_off > strict:
            admitted = round_off / (1.0 - discount) / (top - bottom)
            if admitted > max(epsilon, RESOLVED):
                for s in range(n_states):
                    for a in range(n_actions):
                        if reached[s] and not term[e, s] and actions[s, a]:
                            doubtful |= v[s] - q[s, a] > strict
        return actions, reached, witness, doubtful

    actions_t, reached_t, witness_t, doubtful_t = optimal_set(t, start[0])
    _, _, witness_d, doubtful_d = optimal_set(d, start[1])
    converged &= not (doubtful_t or doubtful_d)
    unavoided = unavoidable(ns[t], pr[t], term[t], start[0] > 0, actions_t)
    sound_t = actions_t.copy()
    for s in range(n_states):
        if not unavoided[s]:
            sound_t[s] = True

    # 4. Restricted extremes, warm-started from step 2: the lowest and highest values
    #    over a mask (in the objective's own terms) and the lowest's representative.
    def extent(mask, e, f):
        low, _, low_policy, done_low = solve(
            ns[e], pr[e], term[e], discount, -reward[f], mask, best[e, f, 1], margins[f],
            WARM_SWEEPS,
        )  # fmt: skip
        high, _, _, done_high = solve(
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
        _, _, witness_m, doubtful_m = optimal_set(t, mixture)
        low, high, _, done = extent(witness_m, d, 1)
        converged &= done and not doubtful_m
        write(4, low, high, start[1])
    else:
        ranges[4, 0], ranges[4, 1] = np.nan, np.nan

    # The witness extremes are exact when no loose state (reached, avoidable, with a
    # choice) is reachable in deployment under the sound mask, or with shared dynamics
    # and no new start; else they must meet the sound bounds.
    deployed = reach(ns[d], pr[d], term[d], start[1] > 0, sound_t)
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
        # them exactly, as the per-world path does (`alignlens.solve.exact.extremes`): the
        # extremes over the leaves, and the first leaf within round-off of the minimum.
        work = max(16, SEARCH_WORK // next_state[0].size)
        leaves, complete = tied_choices(
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
    values = evaluate(next_state[t], prob[t], terminal[t], discount, policy, reward)
    for f in range(2):
        into[0, f] = start[0] @ values[f]
    if d != t:
        values = evaluate(next_state[d], prob[d], terminal[d], discount, policy, reward)
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
    worlds: StackedWorlds,
    policies: Float[np.ndarray, "B S A"] | None,
    epsilon: float,
    inside: float,
) -> ManyNumbers:
    """Every number of the stacked worlds' analyses, with the learned policy ``policies``
    (action probabilities) or, when None, the exhaustive worst-deployment representative;
    ``inside`` is the deployment share of the mixture's optimal set."""
    n_worlds, _, n_states, n_actions, _ = worlds.next_state.shape
    given = policies is not None
    if policies is None:
        policies = np.zeros((n_worlds, n_states, n_actions))
    numbers = ManyNumbers(
        ok=np.zeros(n_worlds, dtype=np.bool_),
        shared=np.zeros(n_worlds, dtype=np.bool_),
        optimum=np.zeros((n_worlds, 2, 2)),
        worst=np.zeros((n_worlds, 2, 2)),
        random=np.zeros((n_worlds, 2, 2)),
        returns=np.zeros((n_worlds, 2, 2)),
        ranges=np.zeros((n_worlds, 5, 2)),
        policy=np.zeros((n_worlds, n_states), dtype=np.int64),
    )
    _analyse(
        np.ascontiguousarray(worlds.next_state, dtype=np.int64),
        np.ascontiguousarray(worlds.prob, dtype=np.float64),
        np.ascontiguousarray(worlds.terminal, dtype=np.bool_),
        np.ascontiguousarray(worlds.start, dtype=np.float64),
        np.ascontiguousarray(worlds.reward, dtype=np.float64),
        np.ascontiguousarray(worlds.discount, dtype=np.float64),
        np.ascontiguousarray(policies, dtype=np.float64),
        given,
        float(epsilon),
        float(inside),
        (
            numbers.ok,
            numbers.shared,
            numbers.optimum,
            numbers.worst,
            numbers.random,
            numbers.returns,
            numbers.ranges,
            numbers.policy,
        ),
    )
    return numbers
