"""Exact solvers against independent methods: linear programming, pymdptoolbox, dense
solves, the value-iteration bound, backward induction for finite horizons, and JAX."""

from __future__ import annotations

import numpy as np
import pytest

from alignlens.solve import evaluate, optimize, value_iteration
from alignlens.world import load_world
from alignlens.world.model import Environment
from oracles import dense, lp_optimal_values, random_env


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gamma", [0.5, 0.95])
def test_optimal_values_match_linear_programming(seed: int, gamma: float) -> None:
    env, reward = random_env(seed, gamma=gamma)
    got = optimize(env, reward)
    want = lp_optimal_values(env, reward)
    np.testing.assert_allclose(got.values, want, atol=1e-7)
    worst = optimize(env, reward, sense="min")
    np.testing.assert_allclose(worst.values, -lp_optimal_values(env, -reward), atol=1e-7)
    assert got.value == pytest.approx(env.start @ want, abs=1e-7)


@pytest.mark.parametrize("seed", range(4))
def test_optimal_values_match_pymdptoolbox(seed: int) -> None:
    import mdptoolbox.mdp

    env, reward = random_env(seed, terminal=0, gamma=0.9)
    solver = mdptoolbox.mdp.PolicyIteration(dense(env), reward, env.discount)
    solver.run()
    got = optimize(env, reward)
    np.testing.assert_allclose(got.values, np.array(solver.V), atol=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_policy_evaluation_matches_dense_solve(seed: int) -> None:
    env, reward = random_env(seed)
    rng = np.random.default_rng(100 + seed)
    policy = rng.random(reward.shape)
    policy /= policy.sum(1, keepdims=True)
    P = dense(env)
    p_pi = np.einsum("sa,ast->st", policy, P)
    r_pi = np.where(env.terminal, 0.0, (policy * reward).sum(1))
    want = np.linalg.solve(np.eye(env.n_states) - env.discount * p_pi, r_pi)
    got = evaluate(env, reward, policy)
    np.testing.assert_allclose(got.values, want, atol=1e-10)
    assert got.value == pytest.approx(env.start @ want)


def test_large_evaluation_is_certified_by_its_residual() -> None:
    # Above the direct-solve limit the iterative solve must certify its error bound.
    env, reward = random_env(7, n=5000, a=2, k=3, gamma=0.95, terminal=10)
    policy = np.full(reward.shape, 0.5)
    got = evaluate(env, reward, policy)
    p_pi = 0.5 * (dense_sparse(env, 0) + dense_sparse(env, 1))
    residual = got.values - (np.where(env.terminal, 0, reward.mean(1)) + 0.95 * (p_pi @ got.values))
    assert np.abs(residual[~env.terminal]).max() < 1e-9
    assert got.error_bound < 1e-8


def dense_sparse(env: Environment, action: int):
    import scipy.sparse as sp

    n, _, k = env.next_state.shape
    rows = np.repeat(np.arange(n), k)
    m = sp.csr_matrix(
        (env.prob[:, action].ravel(), (rows, env.next_state[:, action].ravel())), shape=(n, n)
    )
    return sp.diags((~env.terminal).astype(float)) @ m


@pytest.mark.parametrize("seed", range(4))
def test_value_iteration_error_bound_holds(seed: int) -> None:
    env, reward = random_env(seed, gamma=0.9)
    exact = optimize(env, reward).values
    for tolerance in (1e-1, 1e-4):
        vi = value_iteration(env, reward, tolerance=tolerance)
        error = np.abs(vi.values - exact).max()
        assert error <= vi.error_bound + 1e-12
        assert vi.error_bound <= tolerance


def test_span_rule_matches_pymdptoolbox_sweeps() -> None:
    import mdptoolbox.mdp

    env, reward = random_env(3, terminal=0, gamma=0.9)
    theirs = mdptoolbox.mdp.ValueIteration(dense(env), reward, 0.9, epsilon=0.01)
    theirs.run()
    ours = value_iteration(env, reward, tolerance=0.01, stopping="span")
    assert ours.sweeps == theirs.iter
    np.testing.assert_allclose(ours.values, np.array(theirs.V), atol=1e-12)


def backward_induction(d: dict, env: str, objective: str, sense: str) -> float:
    """Best (or worst) return over time-dependent policies by recursion on (state, steps left)."""
    rows = d[env]["transitions"]
    rewards: dict = {}
    for s, a, r in d["objectives"][objective]:
        rewards[s, a] = rewards.get((s, a), 0.0) + r
    terminal = set(d[env]["terminal"])
    pick = max if sense == "max" else min
    memo: dict = {}

    def value(s: str, left: int) -> float:
        if left == 0 or s in terminal:
            return 0.0
        if (s, left) not in memo:
            memo[s, left] = pick(
                rewards.get((s, a), 0.0)
                + d["discount"]
                * sum(p * value(t, left - 1) for s2, a2, t, p in rows if s2 == s and a2 == a)
                for a in d["actions"]
            )
        return memo[s, left]

    return sum(p * value(s, d["horizon"]) for s, p in d[env]["start"].items())


def test_finite_horizon_matches_backward_induction(examples) -> None:
    import tomllib

    d = tomllib.loads((examples / "patience.toml").read_text())
    world = load_world(examples / "patience.toml")
    # Worked answer: from wait0, waiting twice then taking earns 3 on the third step.
    assert optimize(world.train, world.base).value == pytest.approx(3.0)
    for horizon in (1, 2, 3, 5):
        d["horizon"] = horizon
        from alignlens.world import world_from_dict

        w = world_from_dict(d)
        for env in ("train", "deploy"):
            for sense in ("max", "min"):
                got = optimize(w.environment(env), w.base, sense=sense).value
                assert got == pytest.approx(backward_induction(d, env, "base", sense))


@pytest.mark.parametrize("n_states", [12, 450])
def test_batched_evaluation_matches_one_by_one(n_states: int) -> None:
    from alignlens.solve import evaluate_many

    env, reward = random_env(9, n=n_states, a=3, k=2, gamma=0.9, terminal=2)
    rng = np.random.default_rng(0)
    policies = rng.random((20, n_states, 3))
    policies /= policies.sum(-1, keepdims=True)
    policies[:5] = np.eye(3)[rng.integers(0, 3, (5, n_states))]  # some deterministic members
    got = evaluate_many(env, reward, policies)
    want = np.array([evaluate(env, reward, p).value for p in policies])
    np.testing.assert_allclose(got, want, atol=1e-10)


def test_batched_optimal_q_matches_one_by_one() -> None:
    """The planners' batched value iteration (NumPy) against `optimize`'s certified Q*."""
    from alignlens.solve.exact.many_policies import optimal_q_many

    env, reward = random_env(5, n=30, a=3, k=2, gamma=0.95, terminal=3)
    rewards = np.stack([reward, -reward, np.roll(reward, 1, axis=0)])
    got = optimal_q_many(env, rewards)
    for q, r in zip(got, rewards, strict=True):
        np.testing.assert_allclose(q, optimize(env, r).q, atol=1e-9)


@pytest.mark.parametrize("n_states", [12, 80])  # batched dense solves; one sparse solve each
def test_occupancies_reproduce_returns(n_states: int) -> None:
    """Σ_s d(s) Σ_a π(a|s) r(s, a) = J_π (the occupancy identity), with J_π by a dense solve
    of the Bellman equation; and `occupancies` agrees with `occupancy` one policy at a time."""
    from alignlens.solve.exact.evaluation import occupancies, occupancy

    env, reward = random_env(3, n=n_states)
    rng = np.random.default_rng(4)
    policies = rng.random((5, n_states, 3))
    policies /= policies.sum(-1, keepdims=True)
    d = occupancies(env, policies)
    P = dense(env)
    for pi, d_pi in zip(policies, d, strict=True):
        p_pi = np.einsum("sa,ast->st", pi, P)
        v = np.linalg.solve(np.eye(n_states) - env.discount * p_pi, (pi * reward).sum(-1))
        assert d_pi @ (pi * reward).sum(-1) == pytest.approx(env.start @ v, abs=1e-9)
        np.testing.assert_allclose(d_pi, occupancy(env, pi), atol=1e-12)
