"""PPO throughput on one accelerator: many environments and many seeds in one jitted call.

Trains ``--seeds`` networks at once (`jax.vmap` over the seeds of `make_train`'s
``train``) with ``--envs`` environments each on the coin world's training levels, and
prints environment steps per second over all seeds, once compiled, for two modes:

- lookup: the network is evaluated once per state of the world per update (and per
  minibatch), then looked up; the coin world has 182 states, far fewer than a rollout;
- per-sample: one network pass per sample, as a generic PPO does (the comparable number
  to other implementations).

Target (issue 5): ≥ 10^7 env-steps/s on one H100. The whole script runs in well under 5
minutes there; ``--smoke`` shrinks it to run on a CPU in seconds.

Run: python benchmarks/gpu_ppo.py [--envs 4096] [--seeds 4] [--steps 20000000] [--smoke]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import jax
import jax.numpy as jnp

from alignlens import load_world
from alignlens.optimizers.ppo import PPOConfig, make_train
from alignlens.world.examples import examples_dir


def measure(world, config: PPOConfig, seeds: int) -> tuple[float, float]:
    """(compile seconds, env-steps per second over all seeds in the compiled call)."""
    trainer = make_train(world, config)
    keys = jnp.stack([jax.random.PRNGKey(s) for s in range(seeds)])
    with jax.numpy_dtype_promotion("standard"):
        start = time.perf_counter()
        compiled = jax.jit(jax.vmap(trainer.train)).lower(keys).compile()
        compile_s = time.perf_counter() - start
        jax.block_until_ready(compiled(keys))  # first call: allocation
        start = time.perf_counter()
        jax.block_until_ready(compiled(keys))
        run_s = time.perf_counter() - start
    return compile_s, seeds * config.updates * config.batch / run_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", type=int, default=4096)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20_000_000, help="per seed")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for a CPU")
    args = parser.parse_args()
    if args.smoke:
        args.envs, args.seeds, args.steps = 64, 2, 64 * 32 * 4
    world = load_world(examples_dir() / "coin.toml")
    device = jax.devices()[0]
    print(f"device: {device.device_kind} ({jax.default_backend()}), jax {jax.__version__}")
    print(
        f"coin world, {world.n_states} states; {args.seeds} seeds × {args.envs} envs × 32 "
        f"steps per rollout, 4 minibatches, 4 epochs, MLP 64×64; {args.steps:,} steps per seed"
    )
    print(f"{'mode':<11} {'compile s':>9} {'env-steps/s':>14}")
    for mode, lookup in (("lookup", True), ("per-sample", False)):
        config = PPOConfig(
            total_steps=args.steps, n_envs=args.envs, n_steps=32, records=1, state_lookup=lookup
        )
        compile_s, rate = measure(world, config, args.seeds)
        print(f"{mode:<11} {compile_s:>9.1f} {rate:>14,.0f}")
    print("target: ≥ 10,000,000 env-steps/s on one H100")


if __name__ == "__main__":
    main()
