"""PPO environment steps per second: alignlens (JAX, jitted end to end) against
Stable-Baselines3 PPO (PyTorch) on the same gridworld, in one run.

Both train on the coin world's training levels (examples/coin.toml), SB3 through the
Gymnasium wrapper `alignlens.envs.gym.GridworldEnv` in a `DummyVecEnv`. The settings
match: an MLP actor-critic with separate 64×64 tanh networks (SB3's `MlpPolicy`),
`n_envs` environments × `n_steps` rollout steps, minibatches of the same size, the same
epochs, clip, GAE λ, entropy and value weights, gradient clipping, Adam, learning rate
1e-3, one CPU process each.

Reported:
- steady state: environment steps per second once compiled (alignlens: the median over
  ``--repeats`` calls of the compiled training function; SB3: the median over repeats
  of `learn` after a warm-up call);
- end to end: wall time from nothing to a trained policy for each budget in ``--budgets``
  (alignlens: building and compiling the training function included, which dominates a
  20k-step run; SB3: model construction included);
- many seeds: alignlens trains ``--seeds`` seeds at once with `jax.vmap` (SB3 has no
  counterpart; its rate would be the single-seed rate).

Run: python benchmarks/bench_ppo.py [--n-envs 8] [--budgets 20000,200000] [--repeats 3]
Needs torch and stable-baselines3 (not dependencies of alignlens).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import jax
import jax.numpy as jnp

from alignlens import load_world
from alignlens.envs.gym import GridworldEnv
from alignlens.optimizers.ppo import PPOConfig, make_train
from alignlens.world.examples import examples_dir


def config(args: argparse.Namespace, total_steps: int) -> PPOConfig:
    return PPOConfig(
        total_steps=total_steps,
        n_envs=args.n_envs,
        n_steps=args.n_steps,
        epochs=args.epochs,
        minibatches=args.minibatches,
        learning_rate=1e-3,
        records=1,
        state_lookup=not args.no_lookup,
    )


def alignlens_run(world, cfg: PPOConfig, seeds: int = 1) -> tuple[float, float, list[float]]:
    """(build + compile seconds, first-call seconds, steady-state call seconds)."""
    start = time.perf_counter()
    trainer = make_train(world, cfg)
    keys = jnp.stack([jax.random.PRNGKey(s) for s in range(seeds)])
    fn = jax.jit(jax.vmap(trainer.train)) if seeds > 1 else trainer.train
    arg = keys if seeds > 1 else keys[0]
    with jax.numpy_dtype_promotion("standard"):
        compiled = jax.jit(fn).lower(arg).compile()
        compile_s = time.perf_counter() - start
        t = time.perf_counter()
        jax.block_until_ready(compiled(arg))
        first = time.perf_counter() - t
        calls = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            jax.block_until_ready(compiled(arg))
            calls.append(time.perf_counter() - t)
    return compile_s, first, calls


def sb3_model(world, args: argparse.Namespace):
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    torch.set_num_threads(os.cpu_count() or 1)
    venv = DummyVecEnv([lambda: GridworldEnv(world, "train") for _ in range(args.n_envs)])
    batch = args.n_envs * args.n_steps
    return PPO(
        "MlpPolicy",
        venv,
        learning_rate=1e-3,
        n_steps=args.n_steps,
        batch_size=batch // args.minibatches,
        n_epochs=args.epochs,
        gamma=world.discount,
        gae_lambda=0.95,
        clip_range=0.2,
        clip_range_vf=0.2,
        ent_coef=0.01,
        vf_coef=0.5,
        max_grad_norm=0.5,
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}},
        device="cpu",
        seed=0,
        verbose=0,
    )


def sb3_steady(world, args: argparse.Namespace) -> list[float]:
    """Seconds per ``--steady-steps`` of SB3 learning, after a warm-up call."""
    model = sb3_model(world, args)
    model.learn(args.n_envs * args.n_steps * 4)
    calls = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        model.learn(args.steady_steps, reset_num_timesteps=False)
        calls.append(time.perf_counter() - t)
    return calls


def sb3_end_to_end(world, args: argparse.Namespace, steps: int) -> float:
    t = time.perf_counter()
    sb3_model(world, args).learn(steps)
    return time.perf_counter() - t


REPEATS = 3


def main() -> None:
    global REPEATS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-envs", type=int, default=8)
    parser.add_argument("--n-steps", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--minibatches", type=int, default=4)
    parser.add_argument("--steady-steps", type=int, default=20_480)
    parser.add_argument("--budgets", default="20000,200000")
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--no-lookup", action="store_true", help="one network pass per sample, as SB3 does"
    )
    args = parser.parse_args()
    REPEATS = args.repeats
    world = load_world(examples_dir() / "coin.toml")
    budgets = [int(b) for b in args.budgets.split(",")]
    print(
        f"coin world, {world.n_states} states; {args.n_envs} envs × {args.n_steps} steps, "
        f"{args.minibatches} minibatches, {args.epochs} epochs; {os.cpu_count()} CPU cores; "
        f"jax {jax.__version__} on {jax.default_backend()}"
    )

    steady_cfg = config(args, args.steady_steps)
    steps = steady_cfg.updates * steady_cfg.batch
    _, _, calls = alignlens_run(world, steady_cfg)
    ours = steps / statistics.median(calls)
    theirs = args.steady_steps / statistics.median(sb3_steady(world, args))
    print("\nsteady state (env-steps/s, medians)")
    print(f"  alignlens  {ours:>12,.0f}")
    print(f"  SB3        {theirs:>12,.0f}")
    print(f"  ratio      {ours / theirs:>12.1f}×  (target ≥ 20×)")

    print("\nend to end (s, from nothing to a trained policy)")
    print(f"  {'steps':>9} {'alignlens':>10} {'(compile)':>10} {'SB3':>9} {'ratio':>7}")
    for budget in budgets:
        compile_s, first, _ = alignlens_run(world, config(args, budget))
        ours_s = compile_s + first
        theirs_s = sb3_end_to_end(world, args, budget)
        print(
            f"  {budget:>9,} {ours_s:>10.2f} {compile_s:>10.2f} {theirs_s:>9.2f} "
            f"{theirs_s / ours_s:>6.1f}×"
        )

    seeds_cfg = config(args, args.steady_steps)
    _, _, calls = alignlens_run(world, seeds_cfg, seeds=args.seeds)
    rate = args.seeds * seeds_cfg.updates * seeds_cfg.batch / statistics.median(calls)
    print(f"\n{args.seeds} seeds at once (jax.vmap): {rate:,.0f} env-steps/s in all")


if __name__ == "__main__":
    main()
