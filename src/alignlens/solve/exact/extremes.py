"""The range of a return over an optimal set: min and max of J^env_f over Opt.

One primitive does the work: the best (or worst) return over policies restricted to
given action sets at given states (`restricted_extreme`, an optimisation with an action
mask). Two masks bracket Opt (docs/model.md): the *witness* mask (optimal actions wherever
optimal actions can lead) admits only members of Opt, so its extremes are attained; the
*sound* mask (optimal actions where no optimal policy can avoid going) admits every
member, so its extremes bound Opt's. When the two agree, the extreme is exact. When
they differ, a search over the tied optimal choices that change where a policy goes
resolves it exactly on small worlds; otherwise the interval is reported.

Stochastic members of Opt add nothing: J is linear-fractional in each state's action
distribution, so its extremes over Opt are attained by deterministic members.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Bool, Float, Int

from alignlens.analysis import Range
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.optimal_set import OptimalSet
from alignlens.solve.exact.optimum import ROUND_OFF, Sense, optimize
from alignlens.solve.exact.reachability import reachable
from alignlens.world.model import Environment

SEARCH_LIMIT = 512
CLOSE = 1e3 * ROUND_OFF  # two extremes this close (× their scale) are equal
SEARCH_WORK = 200_000_000  # successor entries scanned, summed over the search


def restricted_extreme(
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    allowed: Bool[np.ndarray, "S A"] | None,
    sense: Sense,
    cache: SolveCache | None = None,
) -> float:
    """max (or min) of J^env_reward over policies that use only allowed actions.

    Such a policy only visits the states it can reach from ``env``'s start under the
    mask, so the problem is solved on those states alone (`Environment.subset`),
    warm-started from the unrestricted solution when that is known; where the mask binds
    none of them, it is the unrestricted problem, which is likely solved already.
    """
    cache = cache or SolveCache()
    if allowed is None:
        return cache.optimize(env, reward, sense=sense).value
    region = reachable(env, allowed)
    if not (region & ~env.terminal & ~allowed.all(axis=1)).any():
        return cache.optimize(env, reward, sense=sense).value
    free = cache.known(env, reward, sense=sense)
    solved = cache.optimize(
        cache.subset(env, region),
        reward[region],
        sense=sense,
        allowed=allowed[region],
        initial=None if free is None else free.values[region],
    )
    # From ``env``'s own start: environments with the same dynamics share one subset.
    return float(env.start[region] @ solved.values) + 0.0


def witness_is_exact(opt: OptimalSet, env: Environment) -> bool:
    """Whether the witness mask already gives the extremes over Opt of returns in ``env``.

    Two sufficient reasons. (1) ``env`` has Opt's dynamics and starts only where Opt's
    environment starts: a member then reaches in ``env`` only states it reaches in its own
    environment, where it acts optimally, so some witness policy matches its return. (2)
    ``env`` cannot reach (under any policy of the sound mask) a state where the two masks
    differ: on everything ``env`` can reach, the two restricted problems are the same.
    """
    same = (
        env.next_state is opt.env.next_state
        and env.prob is opt.env.prob
        and env.terminal is opt.env.terminal
    )
    if same and not np.any((env.start > 0) & ~(opt.env.start > 0)):
        return True
    loose = opt.reached & ~opt.unavoidable & ~opt.actions.all(axis=1)
    return not (loose.any() and (reachable(env, opt.sound_mask) & loose).any())


def return_range(
    opt: OptimalSet,
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    *,
    search_limit: int = SEARCH_LIMIT,
    cache: SolveCache | None = None,
) -> Range:
    """min and max of J^env_reward over Opt (exact, or bracketed when unresolvable)."""
    cache = cache or SolveCache()
    witness, sound = opt.witness_mask, opt.sound_mask

    def extreme(mask: np.ndarray, sense: Sense) -> float:
        return restricted_extreme(env, reward, mask, sense, cache)

    lo_w, hi_w = extreme(witness, "min"), extreme(witness, "max")
    if witness_is_exact(opt, env):
        return Range.exact_range(lo_w, hi_w)
    lo_s, hi_s = extreme(sound, "min"), extreme(sound, "max")
    scale = max(1.0, abs(lo_s), abs(hi_s))
    if abs(lo_w - lo_s) <= CLOSE * scale and abs(hi_w - hi_s) <= CLOSE * scale:
        return Range.exact_range(lo_w, hi_w)
    leaves = tied_choices(opt, search_limit)
    if leaves is None:
        return Range(lo_w, hi_w, (lo_s, lo_w), (hi_w, hi_s))
    lows = [extreme(mask, "min") for mask in leaves]
    highs = [extreme(mask, "max") for mask in leaves]
    return Range.exact_range(min(lows), max(highs))


def extreme_member(
    opt: OptimalSet,
    env: Environment,
    reward: Float[np.ndarray, "S A"],
    sense: Sense,
    *,
    search_limit: int = SEARCH_LIMIT,
) -> Int[np.ndarray, " S"]:
    """A deterministic member of Opt attaining the min or max of J^env_reward over Opt
    (the best member found when the search is over its limit)."""
    found = optimize(env, reward, sense=sense, allowed=opt.witness_mask)
    bound = optimize(env, reward, sense=sense, allowed=opt.sound_mask)
    if abs(found.value - bound.value) <= CLOSE * max(1.0, abs(bound.value)):
        return stays_optimal(found.policy, opt.witness_mask, opt.env, env)
    leaves = tied_choices(opt, search_limit) or [opt.witness_mask]
    candidates = [optimize(env, reward, sense=sense, allowed=mask) for mask in leaves]
    values = [c.value for c in candidates]
    target = max(values) if sense == "max" else min(values)
    # The first leaf within round-off of the extreme: leaves that tie exactly may differ
    # in their last bits, and the pick must not depend on those.
    best = next(i for i, v in enumerate(values) if abs(v - target) <= CLOSE * max(1.0, abs(target)))
    return stays_optimal(candidates[best].policy, leaves[best], opt.env, env)


def stays_optimal(
    policy: Int[np.ndarray, " S"],
    allowed: Bool[np.ndarray, "S A"],
    home: Environment,
    env: Environment,
) -> Int[np.ndarray, " S"]:
    """The policy with the first ``allowed`` action wherever ``env`` ends the episode (or
    never goes) but ``home``, the optimal set's environment, does not: there any action
    serves ``env``, and an arbitrary one could leave Opt (a state that a dynamics shift
    makes unreachable in deployment may still be on the optimal path in training)."""
    idle = env.terminal & ~home.terminal
    return np.where(idle, np.argmax(allowed, axis=1), policy)


def tied_choices(opt: OptimalSet, limit: int) -> list[Bool[np.ndarray, "S A"]] | None:
    """Masks whose union is Opt, one per way of choosing among tied optimal actions that
    lead to different states (None if there are more than ``limit``, or the search would
    visit more partial choices than 8 × ``limit`` or than `SEARCH_WORK` allows).

    At a *branching* state the optimal actions fall into groups by the set of states they
    can lead to; choosing a group fixes where the policy goes next. Each mask fixes one
    group at every branching state that its own choices reach, requires optimal actions at
    every state so reached, and leaves all other states free.
    """
    env = opt.env
    groups: dict[int, list[np.ndarray]] = {}
    tied = opt.reached & ~env.terminal & (opt.actions.sum(axis=1) > 1)
    for s in np.flatnonzero(tied):  # only states with tied optimal actions can branch
        by_support: dict[frozenset[int], list[int]] = {}
        for a in np.flatnonzero(opt.actions[s]):
            support = frozenset(env.next_state[s, a][env.prob[s, a] > 0].tolist())
            by_support.setdefault(support, []).append(int(a))
        if len(by_support) > 1:
            groups[int(s)] = [np.array(g) for g in by_support.values()]

    def mask_for(choice: dict[int, int]) -> np.ndarray:
        mask = opt.actions.copy()
        for s, options in groups.items():
            mask[s] = False
            if s in choice:
                mask[s, options[choice[s]]] = True
        return mask

    leaves: list[np.ndarray] = []
    stack: list[dict[int, int]] = [{}]
    # Partial choices cost a reachability search each: bound the work, not only the leaves.
    max_visits = min(8 * max(1, limit), max(16, SEARCH_WORK // env.next_state.size))
    visits = 0
    while stack:
        visits += 1
        if visits > max_visits:
            return None
        choice = stack.pop()
        mask = mask_for(choice)
        reached = reachable(env, mask)
        pending = [s for s in groups if reached[s] and s not in choice]
        if pending:
            s = pending[0]
            stack.extend({**choice, s: g} for g in range(len(groups[s])))
            continue
        if len(leaves) == limit:
            return None
        leaves.append(np.where(reached[:, None], mask, True))
    return leaves
