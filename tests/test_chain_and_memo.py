"""The O(S) chain evaluation, factor reuse and content-shared solves, each against a
second method: dense linear solves, linear programming, and a fresh cache."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from alignlens.solve import evaluate, optimize
from alignlens.solve.cache import SolveCache
from alignlens.solve.exact.chain import chain_values
from alignlens.solve.exact.evaluation import SolverMemo
from alignlens.world.model import Environment
from oracles import dense, lp_optimal_values


def deterministic_env(seed: int, n: int = 40, a: int = 3, gamma: float = 0.9) -> tuple:
    """A random deterministic world (K = 1): functional graphs with cycles and trees."""
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, n, (n, a, 1)).astype(np.int32)
    term = np.zeros(n, dtype=bool)
    term[: n // 10] = True
    reward = rng.integers(-2, 3, size=(n, a)).astype(float)
    reward[term] = 0.0
    env = Environment(
        "d", np.full(n, 1.0 / n), nxt, np.ones((n, a, 1)), term, np.ones(n, bool), gamma
    )
    return env, reward


def dense_values(successor: np.ndarray, reward: np.ndarray, gamma: float) -> np.ndarray:
    n = successor.shape[0]
    p = np.zeros((n, n))
    live = successor >= 0
    p[np.flatnonzero(live), successor[live]] = 1.0
    return np.linalg.solve(np.eye(n) - gamma * p, reward)


@pytest.mark.parametrize("seed", range(8))
def test_chain_values_match_a_dense_solve(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    successor = rng.integers(-1, n, size=n)  # −1 ends the episode
    successor[rng.random(n) < 0.3] = -1
    reward = rng.normal(size=n)
    for gamma in (0.5, 0.99):
        got = chain_values(successor, reward, gamma)
        np.testing.assert_allclose(got, dense_values(successor, reward, gamma), atol=1e-11)


def test_chain_values_on_a_single_cycle_is_the_geometric_sum() -> None:
    # s0 → s1 → s2 → s0 with rewards 1, 0, 0: V(s0) = 1 / (1 − γ³), V(s2) = γ V(s0),
    # V(s1) = γ² V(s0).
    gamma = 0.9
    got = chain_values(np.array([1, 2, 0]), np.array([1.0, 0.0, 0.0]), gamma)
    v0 = 1.0 / (1.0 - gamma**3)
    np.testing.assert_allclose(got, [v0, gamma**2 * v0, gamma * v0], rtol=1e-14)


def test_undiscounted_cycle_has_no_chain_value() -> None:
    assert chain_values(np.array([1, 0]), np.array([1.0, 1.0]), 1.0) is None


@pytest.mark.parametrize("seed", range(6))
def test_deterministic_policy_evaluation_takes_the_chain_and_matches_dense(seed: int) -> None:
    env, reward = deterministic_env(seed)
    actions = np.random.default_rng(seed).integers(0, env.n_actions, env.n_states)
    policy = np.eye(env.n_actions)[actions]
    got = evaluate(env, reward, policy)
    p_pi = np.einsum("sa,ast->st", policy, dense(env))
    r_pi = np.where(env.terminal, 0.0, (policy * reward).sum(1))
    want = np.linalg.solve(np.eye(env.n_states) - env.discount * p_pi, r_pi)
    np.testing.assert_allclose(got.values, want, atol=1e-11)
    assert got.error_bound < 1e-10


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("sense", ["max", "min"])
def test_deterministic_optimum_matches_linear_programming(seed: int, sense: str) -> None:
    env, reward = deterministic_env(seed, gamma=0.95)
    sign = 1.0 if sense == "max" else -1.0
    got = optimize(env, reward, sense=sense)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.values, sign * lp_optimal_values(env, sign * reward), atol=1e-8)


@pytest.mark.parametrize("seed", range(4))
def test_warm_started_restricted_solve_equals_a_cold_one(seed: int) -> None:
    # A deterministic world goes straight to policy iteration from the warm start; the
    # answer must not depend on it.
    env, reward = deterministic_env(seed, n=80, gamma=0.95)
    free = optimize(env, reward)
    allowed = np.random.default_rng(seed).random(reward.shape) < 0.6
    allowed[np.arange(env.n_states), 0] = True
    cold = optimize(env, reward, allowed=allowed)
    warm = optimize(env, reward, allowed=allowed, initial=free.values)
    np.testing.assert_allclose(warm.values, cold.values, atol=1e-10)


def test_one_factorisation_serves_several_rewards() -> None:
    # A stochastic policy above the direct-solve limit, on slow-mixing dynamics (a ring
    # walk), so the solve factorises; the second reward reuses the factors.
    n = 1000
    nxt = np.stack([(np.arange(n) + 1) % n, (np.arange(n) - 1) % n], axis=1)[:, :, None]
    env = Environment(
        "ring",
        np.eye(n)[0],
        nxt.astype(np.int32),
        np.ones((n, 2, 1)),
        np.zeros(n, bool),
        np.ones(n, bool),
        0.999,
    )
    policy = np.full((n, 2), 0.5)
    memo = SolverMemo()
    rng = np.random.default_rng(0)
    rewards = [rng.normal(size=(n, 2)) for _ in range(3)]
    got = [evaluate(env, r, policy, memo=memo) for r in rewards]
    assert memo.direct and len(memo.factors) == 1
    p_pi = np.einsum("sa,ast->st", policy, dense(env))
    for r, g in zip(rewards, got, strict=True):
        want = np.linalg.solve(np.eye(n) - env.discount * p_pi, (policy * r).sum(1))
        np.testing.assert_allclose(g.values, want, atol=1e-8)


def test_a_reward_equal_in_content_is_solved_once() -> None:
    env, reward = deterministic_env(0)
    cache = SolveCache()
    first = cache.optimize(env, reward)
    again = cache.optimize(env, reward.copy())
    assert again.values is first.values
    other = cache.optimize(env, reward + 1.0)
    assert other.values is not first.values
    np.testing.assert_allclose(other.values, optimize(env, reward + 1.0).values, atol=1e-12)


@pytest.mark.parametrize("n", [30, 64, 65, 120])
def test_small_dense_and_large_sparse_evaluations_agree(n: int, monkeypatch) -> None:
    """Stochastic policies in stochastic worlds on either side of the dense limit (64 live
    states): the dense solve and the sparse path give the same values."""
    import alignlens.solve.exact.evaluation as evaluation

    rng = np.random.default_rng(n)
    nxt = rng.integers(0, n, (n, 3, 2)).astype(np.int32)
    prob = rng.dirichlet(np.ones(2), size=(n, 3))
    term = np.zeros(n, dtype=bool)
    term[0] = True
    env = Environment("s", np.full(n, 1.0 / n), nxt, prob, term, np.ones(n, bool), 0.9)
    reward = rng.normal(size=(n, 3))
    reward[term] = 0.0
    policy = rng.dirichlet(np.ones(3), size=n)
    default = evaluate(env, reward, policy)
    monkeypatch.setattr(evaluation, "DENSE_LIMIT", 0 if n <= 64 else 10**6)
    other = evaluate(env, reward, policy)
    np.testing.assert_allclose(default.values, other.values, atol=1e-10)
    assert default.value == pytest.approx(other.value, abs=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_dense_reachability_equals_the_sparse_search(seed: int, monkeypatch) -> None:
    import alignlens.world.graph as graph

    rng = np.random.default_rng(seed)
    n = 50
    src, dst = rng.integers(0, n, 70), rng.integers(0, n, 70)
    sources = np.zeros(n, dtype=bool)
    sources[rng.integers(0, n, 2)] = True
    dense_reach = graph.reachable_from(sources, src, dst)
    monkeypatch.setattr(graph, "DENSE_NODES", 0)
    np.testing.assert_array_equal(dense_reach, graph.reachable_from(sources, src, dst))
    assert dense_reach[sources].all()


def ring(n: int = 1000, gamma: float = 0.999) -> Environment:
    """A slow-mixing walk on a ring (two actions: step left, step right; one move in ten
    stays put), where Krylov steps alone do not converge and solves factorise."""
    nxt = np.stack(
        [
            np.stack([(np.arange(n) + 1) % n, np.arange(n)], axis=1),
            np.stack([(np.arange(n) - 1) % n, np.arange(n)], axis=1),
        ],
        axis=1,
    )
    prob = np.broadcast_to([0.9, 0.1], (n, 2, 2)).copy()
    return Environment(
        "ring", np.eye(n)[0], nxt.astype(np.int32), prob, np.zeros(n, bool), np.ones(n, bool), gamma
    )


def dense_evaluation(env: Environment, policy: np.ndarray, reward: np.ndarray) -> np.ndarray:
    p_pi = np.einsum("sa,ast->st", policy, dense(env))
    return np.linalg.solve(np.eye(env.n_states) - env.discount * p_pi, (policy * reward).sum(1))


def test_a_policy_near_a_factorised_one_reuses_its_factors() -> None:
    """A policy that differs from a factorised one in a few rows is solved by Krylov steps
    preconditioned with those factors (no new factorisation); one that differs in many
    rows is factorised; a copy of a factorised policy is a back-substitution. Every answer
    against a dense solve."""
    import alignlens.solve.exact.evaluation as evaluation

    env = ring()
    rng = np.random.default_rng(0)
    reward = rng.normal(size=(env.n_states, 2))
    first = rng.dirichlet(np.ones(2), size=env.n_states)
    memo = SolverMemo()
    evaluate(env, reward, first, memo=memo)
    assert memo.direct and len(memo.factors) == 1
    near = first.copy()
    near[rng.choice(env.n_states, 5, replace=False)] = [1.0, 0.0]
    far = first.copy()
    far[rng.choice(env.n_states, evaluation.NEAR_ROWS + 1, replace=False)] = [0.0, 1.0]
    for policy, kept in [(near, 1), (first.copy(), 1), (far, 2)]:
        got = evaluate(env, reward, policy, memo=memo)
        assert len(memo.factors) == kept
        np.testing.assert_allclose(got.values, dense_evaluation(env, policy, reward), atol=1e-8)
        assert got.error_bound < 1e-8


def test_a_kept_policy_changed_by_its_caller_is_not_mistaken_for_the_old_one() -> None:
    env = ring(500)
    rng = np.random.default_rng(1)
    reward = rng.normal(size=(env.n_states, 2))
    policy = rng.dirichlet(np.ones(2), size=env.n_states)
    memo = SolverMemo()
    evaluate(env, reward, policy, memo=memo)
    policy[:100] = [0.0, 1.0]  # the same array, new content (more than NEAR_ROWS rows)
    got = evaluate(env, reward, policy, memo=memo)
    np.testing.assert_allclose(got.values, dense_evaluation(env, policy, reward), atol=1e-8)


def slippery_grid(side: int = 22, slip: float = 0.2, gamma: float = 0.99) -> tuple:
    """An open grid (4 moves that slip to a random neighbour) with a terminal goal in the
    far corner: slow mixing and stochastic, so exact evaluations factorise."""
    n = side * side
    row, col = np.divmod(np.arange(n), side)
    moves = [(-1, 0), (1, 0), (0, -1), (0, 1)]

    def target(dr: int, dc: int) -> np.ndarray:
        r, c = np.clip(row + dr, 0, side - 1), np.clip(col + dc, 0, side - 1)
        return r * side + c

    cells = [target(*m) for m in moves]
    nxt = np.stack([np.stack([cells[a], *cells], axis=1) for a in range(4)], axis=1)
    prob = np.broadcast_to([1.0 - slip] + [slip / 4] * 4, (n, 4, 5)).copy()
    term = np.zeros(n, bool)
    term[-1] = True
    start = np.eye(n)[0]
    env = Environment("grid", start, nxt.astype(np.int32), prob, term, np.ones(n, bool), gamma)
    reward = np.full((n, 4), -0.01)
    reward[cells[1] == n - 1, 1] = reward[cells[3] == n - 1, 3] = 1.0
    reward[term] = 0.0
    return env, reward


@pytest.mark.parametrize("sense", ["max", "min"])
def test_solves_that_factorise_match_linear_programming(sense: str) -> None:
    """On a 484-state slippery grid, with a memo that factorises at once, an unrestricted
    solve, one started from another objective's values, and a restricted solve (policy
    iteration with near-factor steps) all equal linear programming (to its own tolerance)
    and leave a Bellman residual, computed with dense matrices, that certifies them to
    1e-9: ‖V − V*‖ ≤ ‖T V − V‖ / (1 − γ)."""
    env, reward = slippery_grid()
    sign = 1.0 if sense == "max" else -1.0
    other = reward.copy()
    other[:, 0] -= 0.5  # a second objective: moving up costs more
    memo = SolverMemo(direct=True)
    free = optimize(env, reward, sense=sense, memo=memo)  # type: ignore[arg-type]
    guessed = optimize(env, other, sense=sense, guess=free.values, memo=memo)  # type: ignore[arg-type]
    allowed = np.random.default_rng(2).random(reward.shape) < 0.7
    allowed[np.arange(env.n_states), 3] = True
    restricted = optimize(
        env,
        reward,
        sense=sense,
        allowed=allowed,
        initial=free.values,
        memo=memo,  # type: ignore[arg-type]
    )
    p = dense(env)
    solved = [(free, reward, None), (guessed, other, None), (restricted, reward, allowed)]
    for got, r, mask in solved:
        masked = sign * (r if mask is None else np.where(mask, r, -1e6 * sign))
        np.testing.assert_allclose(sign * got.values, lp_optimal_values(env, masked), atol=1e-6)
        bellman = (masked + env.discount * np.einsum("ast,t->sa", p, sign * got.values)).max(1)
        residual = np.abs(np.where(env.terminal, 0.0, bellman) - sign * got.values).max()
        assert residual / (1.0 - env.discount) < 1e-9


def random_forward_graph(seed: int, n: int = 60) -> tuple[sp.csr_matrix, np.ndarray]:
    """Sparse P over n states in a random order, each row moving only to later states (up
    to three, plus a self-loop of up to half its mass); one in ten rows is empty (ends)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    p = np.zeros((n, n))
    for rank in range(n - 1):
        s = order[rank]
        if rng.random() < 0.1:
            continue
        later = rng.choice(order[rank + 1 :], size=min(3, n - 1 - rank), replace=False)
        p[s, later] = rng.dirichlet(np.ones(later.size))
        stay = 0.5 * rng.random()
        p[s] *= 1.0 - stay
        p[s, s] = stay
    return sp.csr_matrix(p), rng.normal(size=n)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("gamma", [0.5, 0.99, 1.0])
def test_acyclic_values_match_a_dense_solve(seed: int, gamma: float) -> None:
    from alignlens.solve.exact.chain import acyclic_values

    p, reward = random_forward_graph(seed)
    got = acyclic_values(p, reward, gamma)
    want = np.linalg.solve(np.eye(p.shape[0]) - gamma * p.toarray(), reward)
    np.testing.assert_allclose(got, want, atol=1e-11)


def test_a_cycle_or_an_undiscounted_certain_self_loop_has_no_acyclic_value() -> None:
    from alignlens.solve.exact.chain import acyclic_values

    cycle = sp.csr_matrix(np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]))
    assert acyclic_values(cycle, np.ones(3), 0.9) is None
    stuck = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 0.0]]))
    assert acyclic_values(stuck, np.ones(2), 1.0) is None
    np.testing.assert_allclose(acyclic_values(stuck, np.ones(2), 0.5), [2.0, 1.0])


def test_a_policy_that_only_moves_forward_is_evaluated_without_a_solve(monkeypatch) -> None:
    """A deterministic line of 600 states (step 1 or 2 ahead; the last one ends) and a
    policy that splits between the two steps: no factorisation, and the dense answer."""
    import alignlens.solve.exact.evaluation as evaluation

    n = 600
    ahead = np.minimum(np.arange(n)[:, None] + np.array([1, 2]), n - 1)
    term = np.zeros(n, bool)
    term[-1] = True
    env = Environment(
        "line",
        np.eye(n)[0],
        ahead[:, :, None].astype(np.int32),
        np.ones((n, 2, 1)),
        term,
        np.ones(n, bool),
        0.99,
    )
    rng = np.random.default_rng(3)
    reward = rng.normal(size=(n, 2))
    reward[term] = 0.0
    policy = rng.dirichlet(np.ones(2), size=n)

    def no_factorisation(*_: object, **__: object) -> None:
        raise AssertionError("the forward policy was factorised")

    monkeypatch.setattr(evaluation.sla, "splu", no_factorisation)
    monkeypatch.setattr(evaluation.sla, "bicgstab", no_factorisation)
    got = evaluate(env, reward, policy)
    np.testing.assert_allclose(got.values, dense_evaluation(env, policy, reward), atol=1e-10)
    assert got.error_bound < 1e-10


def test_an_environment_on_a_closed_subset_of_states_keeps_their_values() -> None:
    """Policies that only use actions staying inside a subset have the same values on it
    in `Environment.subset` as in the whole environment (dense solves on both)."""
    from alignlens.solve.exact.reachability import reachable

    env, reward = deterministic_env(3, n=60)
    env = dataclasses.replace(env, start=np.eye(env.n_states)[30])
    rng = np.random.default_rng(3)
    mask = rng.random(reward.shape) < 0.5
    mask[np.arange(env.n_states), rng.integers(0, env.n_actions, env.n_states)] = True
    region = reachable(env, mask)
    assert 1 < region.sum() < env.n_states
    part = env.subset(region)
    assert part.start.sum() == pytest.approx(1.0)
    policy = mask / mask.sum(axis=1, keepdims=True)
    whole = dense_evaluation(env, policy, np.where(env.terminal[:, None], 0.0, reward))
    inside = dense_evaluation(
        part, policy[region], np.where(part.terminal[:, None], 0.0, reward[region])
    )
    np.testing.assert_allclose(inside, whole[region], atol=1e-12)
