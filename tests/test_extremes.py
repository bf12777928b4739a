"""Optimal-set extremes against brute-force enumeration of every deterministic policy.

The brute force defines Opt literally (normalised regret ≤ ε over all deterministic
tabular policies, each evaluated by a dense linear solve of the world dict) and takes
min and max of each quantity over it; the solvers must agree exactly.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alignlens.solve import (
    mixture,
    optimal_set,
    reachable,
    return_range,
)
from alignlens.world import load_world, world_from_dict
from oracles import EPS, brute_optimal, brute_tables, lp_optimal_values, random_env
from worlds import random_world_dict

worlds = st.builds(
    lambda seed, n, a, k, g, shift: random_world_dict(
        np.random.default_rng(seed), n_states=n, n_actions=a, n_succ=k, discount=g, shift=shift
    ),
    st.integers(0, 2**32 - 1),
    st.integers(2, 5),
    st.integers(2, 3),
    st.integers(1, 2),
    st.sampled_from([0.5, 0.8]),
    st.booleans(),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds)
def test_extremes_over_opt_train_match_brute_force(d: dict) -> None:
    _, _, table = brute_tables(d)
    world = world_from_dict(d)
    in_opt = brute_optimal(table["train", "base"])
    opt = optimal_set(world.train, world.base, EPS)
    for env, objective in [("deploy", "intended"), ("deploy", "base"), ("train", "intended")]:
        got = return_range(opt, world.environment(env), world.objective(objective))
        want = table[env, objective][in_opt]
        assert got.exact
        assert got.min == pytest.approx(want.min(), abs=1e-9)
        assert got.max == pytest.approx(want.max(), abs=1e-9)
        # Without the search, the witness and sound bounds must bracket the truth.
        bracket = return_range(
            opt, world.environment(env), world.objective(objective), search_limit=0
        )
        lo, hi = bracket.min_bounds
        assert lo - 1e-9 <= want.min() <= hi + 1e-9
        lo, hi = bracket.max_bounds
        assert lo - 1e-9 <= want.max() <= hi + 1e-9
    # Opt(deploy, R) as well.
    in_opt_d = brute_optimal(table["deploy", "base"])
    opt_d = optimal_set(world.deploy, world.base, EPS)
    got = return_range(opt_d, world.deploy, world.intended)
    want = table["deploy", "intended"][in_opt_d]
    assert (got.min, got.max) == pytest.approx((want.min(), want.max()), abs=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds, st.sampled_from([0.01, 0.05, 0.2]))
def test_every_policy_of_the_action_sets_has_regret_at_most_epsilon(
    d: dict, epsilon: float
) -> None:
    """Opt is {π : reg ≤ ε} (DESIGN §2); its action sets (ε-optimal actions at every state
    a policy reaches) must hold no policy beyond that, at any ε. Every deterministic policy
    is checked: the action tolerance ε·(V* − W)·(1 − γ) keeps each member's regret ≤ ε
    (`alignlens.solve.exact.optimal_set` has the argument); ε·(V* − W), DESIGN's formula as
    written, let members exceed it in some of these worlds."""
    model, policies, table = brute_tables(d)
    world = world_from_dict(d)
    opt = optimal_set(world.train, world.base, epsilon)
    values = table["train", "base"]
    best, worst = values.max(), values.min()
    for p, value in zip(policies, values, strict=True):
        acting = [s for s in model.reach("train", p) if not model.terminal[s]]
        if all(opt.actions[s, p[s]] for s in acting):
            assert best - value <= epsilon * (best - worst) + 1e-12


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds)
def test_reached_and_unavoidable_states_match_brute_force(d: dict) -> None:
    model, policies, table = brute_tables(d)
    world = world_from_dict(d)
    members = [
        p for p, ok in zip(policies, brute_optimal(table["train", "base"]), strict=True) if ok
    ]
    reaches = [model.reach("train", p) for p in members]
    opt = optimal_set(world.train, world.base, EPS)
    assert set(np.flatnonzero(opt.reached)) == set().union(*reaches)
    assert set(np.flatnonzero(opt.unavoidable)) == set.intersection(*reaches)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds.filter(lambda d: d["train"]["transitions"] is d["deploy"]["transitions"]))
def test_mixture_optimal_set_matches_brute_force(d: dict) -> None:
    # With shared dynamics the tabular Opt(λ, R) is one set for every λ in (0, 1).
    _, _, table = brute_tables(d)
    world = world_from_dict(d)
    for share in (0.3, 0.5):
        mixed = (1 - share) * table["train", "base"] + share * table["deploy", "base"]
        want = table["deploy", "intended"][brute_optimal(mixed)]
        opt = optimal_set(mixture(world.train, world.deploy, share), world.base, EPS)
        got = return_range(opt, world.deploy, world.intended)
        assert (got.min, got.max) == pytest.approx((want.min(), want.max()), abs=1e-9)


def test_forked_training_needs_the_search(examples) -> None:
    """Worked answer (examples/forked-training.toml, γ = 0.9).

    Opt(train, R) takes a or b at s0 (both earn 0.9) and a or b at s1 and s2. Deployment
    starts at s0 or s1 with probability ½ each. Intended return J_U in deployment:
      through s1 (a at s0): 0.5·0.9·U(s1) + 0.5·U(s1), U(s1) ∈ {1, 0}: max 0.95, min 0;
      through s2 (b at s0): s1 is never visited in training, so any action there:
        0.5·0.9·U(s2) + 0.5·U(s1), U(s2) ∈ {1, 0}, U(s1) ∈ {1, 0, 2}: max 0.45 + 1 = 1.45.
    So the true max is 1.45. The witness bound (s1 and s2 both constrained) gives 0.95;
    the sound bound (only s0 constrained) allows a at s0 with c at s1: 0.9 + 1 = 1.9.
    """
    world = load_world(examples / "forked-training.toml")
    opt = optimal_set(world.train, world.base, 1e-6)
    witness = return_range(opt, world.deploy, world.intended, search_limit=0)
    assert not witness.exact
    assert witness.max_bounds == pytest.approx((0.95, 1.9))
    exact = return_range(opt, world.deploy, world.intended)
    assert exact.exact
    assert (exact.min, exact.max) == pytest.approx((0.0, 1.45))
    assert reachable(world.train, opt.actions)[world.states.index("s1")]


def test_unavoidable_under_a_work_limit_stays_a_sound_subset(examples) -> None:
    from alignlens.solve import unavoidable

    world = load_world(examples / "lava.toml")
    opt = optimal_set(world.train, world.base, 1e-6)
    full = opt.unavoidable
    capped = unavoidable(world.train, opt.actions, work_limit=0.0)
    assert np.array_equal(capped, world.train.start > 0)
    assert not (capped & ~full).any()  # a subset: bounds built on it stay sound
    assert full.sum() > capped.sum()  # the route to the goal is forced in training


def test_a_restricted_extreme_solved_on_the_reach_of_its_mask_is_the_whole_problems() -> None:
    """`restricted_extreme` solves on the states the mask's policies can reach from the
    start (`Environment.subset`): the extremes must equal those of the problem on every
    state, cross-checked by linear programming. Even seeds pin one action per state, odd
    seeds leave choices; most reaches are strict subsets."""
    from alignlens.solve import optimize, restricted_extreme
    from alignlens.solve.cache import SolveCache

    strict = 0
    for seed in range(12):
        env, reward = random_env(seed, n=25, k=2, terminal=3)
        env = dataclasses.replace(env, start=np.eye(env.n_states)[3])  # one start
        rng = np.random.default_rng(seed)
        pinned = np.eye(env.n_actions, dtype=bool)[rng.integers(0, env.n_actions, env.n_states)]
        mask = pinned | (rng.random(pinned.shape) < (0.3 if seed % 2 else 0.0))
        strict += not reachable(env, mask).all()
        cache = SolveCache()
        for sense, sign in (("max", 1.0), ("min", -1.0)):
            cache.optimize(env, reward, sense=sense)  # the warm start, as in an analysis
            got = restricted_extreme(env, reward, mask, sense, cache)
            whole = optimize(env, reward, sense=sense, allowed=mask).value
            masked = np.where(mask | env.terminal[:, None], sign * reward, -1e6)
            want = sign * float(env.start @ lp_optimal_values(env, masked))
            assert got == pytest.approx(whole, abs=1e-10)
            assert got == pytest.approx(want, abs=1e-6)
    assert strict >= 6


def test_environments_sharing_dynamics_and_a_reach_read_their_own_start() -> None:
    """Two starts over the same dynamics whose masked policies reach the same states share
    one `Environment.subset` in the cache; each extreme must still be read from its own
    start (a regression: the second read the first's)."""
    from alignlens.solve import optimize, restricted_extreme
    from alignlens.solve.cache import SolveCache

    env, reward = random_env(4, n=20, k=3, terminal=0)
    mask = np.random.default_rng(4).random(reward.shape) < 0.6
    mask[:, 0] = True
    other = env.with_start("other", np.eye(env.n_states)[7])
    assert np.array_equal(reachable(env, mask), reachable(other, mask))
    cache = SolveCache()
    for e in (env, other):
        for sense in ("max", "min"):
            got = restricted_extreme(e, reward, mask, sense, cache)
            assert got == pytest.approx(optimize(e, reward, sense=sense, allowed=mask).value)
