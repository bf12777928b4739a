"""Exact tabular solvers against pymdptoolbox, in one run, with the memory-bandwidth floor.

(a) End to end on a random sparse MDP (S = 10,000, A = 4, 4 successors per pair):
    pymdptoolbox's ValueIteration constructor (input check, iteration bound) plus run(),
    against alignlens value iteration with the same discount and stopping rule (span
    rule, ε = 0.01), and against alignlens's exact solve (value iteration with a proven
    bound, then a policy-iteration polish).
(b) One Bellman sweep on a 500×500 open gridworld (S = 250,000, A = 4) and on a random
    sparse MDP with S = 10^6: alignlens's compiled loop against
    pymdptoolbox's own sweep (`_bellmanOperator`, the body of run()); its constructor
    cannot finish at these sizes, so it is bypassed.
(c) The floor: the bytes a sweep must move (successor indices, probabilities unless
    K = 1, rewards, terminal flags, V read and written) ÷ the copy bandwidth measured here.

Run: python benchmarks/bench_solvers.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import numba
import numpy as np
import scipy.sparse as sp

from alignlens.solve import optimize, value_iteration
from alignlens.solve.exact.backup import bellman_sweep
from alignlens.world import world_from_dict
from alignlens.world.model import Environment


def median_time(f: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def random_mdp(n: int, a: int, k: int, seed: int) -> tuple[Environment, np.ndarray]:
    rng = np.random.default_rng(seed)
    nxt = rng.integers(0, n, (n, a, k), dtype=np.int32)
    p = rng.random((n, a, k))
    p /= p.sum(-1, keepdims=True)
    reward = rng.random((n, a))
    env = Environment(
        "random", np.full(n, 1.0 / n), nxt, p, np.zeros(n, dtype=bool), np.ones(n, dtype=bool), 0.95
    )
    return env, reward


def open_grid(side: int) -> tuple[Environment, np.ndarray]:
    row = "#" + "." * side + "#"
    level = "\n".join(
        ["#" * (side + 2), "#A" + "." * (side - 1) + "#", *[row] * (side - 1), "#" * (side + 2)]
    )
    world = world_from_dict(
        {
            "name": "open-grid",
            "discount": 0.95,
            "gridworld": {
                "legend": {"#": "wall", ".": "floor", "A": "start"},
                "train": [level],
                "deploy": [level],
                "step_cost": -1.0,
            },
        }
    )
    rng = np.random.default_rng(0)
    return world.train, world.base + rng.random(world.base.shape)


def pymdptoolbox_matrices(env: Environment) -> list[sp.csr_matrix]:
    n, a, k = env.next_state.shape
    rows = np.repeat(np.arange(n), k)
    return [
        sp.csr_matrix((env.prob[:, j].ravel(), (rows, env.next_state[:, j].ravel())), shape=(n, n))
        for j in range(a)
    ]


def pymdptoolbox_sweeper(env: Environment, reward: np.ndarray) -> Callable[[], object]:
    import mdptoolbox.mdp

    vi = mdptoolbox.mdp.ValueIteration.__new__(mdptoolbox.mdp.ValueIteration)
    vi.P = pymdptoolbox_matrices(env)
    vi.R = tuple(np.ascontiguousarray(reward.T))
    vi.discount, vi.S, vi.A = env.discount, env.n_states, env.n_actions
    vi.V = np.zeros(env.n_states)
    return vi._bellmanOperator


def sweep_bytes(env: Environment) -> int:
    n, a, k = env.next_state.shape
    moved = n * a * k * 4 + n * a * 8 + n * 1 + 2 * n * 8
    return moved + (n * a * k * 8 if k > 1 else 0)


@numba.njit(parallel=True, cache=True)
def _parallel_copy(src: np.ndarray, dst: np.ndarray) -> None:
    for i in numba.prange(src.size):
        dst[i] = src[i]


def copy_bandwidth() -> float:
    """Bytes per second (read + write) of the best of a NumPy and a two-thread copy, 256 MB."""
    src = np.ones(32_000_000)
    dst = np.empty_like(src)
    best = min(
        median_time(lambda: np.copyto(dst, src), 7),
        median_time(lambda: _parallel_copy(src, dst), 7),
    )
    return 2 * src.nbytes / best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    quick = args.quick
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numba threads {numba.get_num_threads()}"
    )

    # (a) End to end.
    import mdptoolbox.mdp

    n = 2000 if quick else 10_000
    env, reward = random_mdp(n, 4, 4, seed=1)
    matrices = pymdptoolbox_matrices(env)

    def theirs() -> None:
        vi = mdptoolbox.mdp.ValueIteration(matrices, reward, env.discount, epsilon=0.01)
        vi.run()

    t_theirs = median_time(theirs, 1 if not quick else 3, warmup=0)
    t_span = median_time(lambda: value_iteration(env, reward, tolerance=0.01, stopping="span"), 5)
    t_exact = median_time(lambda: optimize(env, reward), 5)
    print(f"\n(a) end to end, random sparse MDP S={n:,}, A=4, K=4, γ=0.95")
    print(f"  pymdptoolbox ValueIteration (constructor + run)   {t_theirs * 1e3:10.1f} ms")
    print(
        f"  alignlens value iteration, same span rule           {t_span * 1e3:10.1f} ms"
        f"   ratio {t_theirs / t_span:7.1f}×"
    )
    print(
        f"  alignlens exact optimum (VI bound + PI polish)      {t_exact * 1e3:10.1f} ms"
        f"   ratio {t_theirs / t_exact:7.1f}×"
    )

    # (b) and (c) Sweeps.
    bandwidth = copy_bandwidth()
    print(f"\n(c) measured copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write)")
    side = 200 if quick else 500
    big = 100_000 if quick else 1_000_000
    cases = [
        (f"open grid {side}×{side}", *open_grid(side)),
        (f"random sparse S={big:,}, K=4", *random_mdp(big, 4, 4, seed=2)),
    ]
    print("\n(b) one Bellman sweep (medians)")
    header = f"  {'MDP':28s} {'pymdptoolbox':>13s} {'alignlens':>10s}"
    print(header + f" {'floor':>8s} {'vs pymdp':>9s} {'vs floor':>9s}")
    for name, e, r in cases:
        values = np.zeros(e.n_states)
        out = np.empty_like(values)
        r = np.ascontiguousarray(r)
        t_ours = median_time(lambda e=e, r=r, v=values, o=out: bellman_sweep(e, r, v, o), 30)
        t_pymdp = median_time(pymdptoolbox_sweeper(e, r), 5 if not quick else 10)
        floor = sweep_bytes(e) / bandwidth
        print(
            f"  {name:28s} {t_pymdp * 1e3:10.2f} ms {t_ours * 1e3:7.2f} ms"
            f" {floor * 1e3:5.2f} ms {t_pymdp / t_ours:8.1f}× {t_ours / floor:8.2f}×"
        )
    print(
        "\nTargets: ≥ 20× end to end at S = 10,000; ≥ 2× per sweep on both large MDPs; "
        "a grid sweep within 2× of the floor."
    )


if __name__ == "__main__":
    main()
