"""Proximal policy optimisation (PPO) on the JAX gridworld, with Optax, jitted end to end.

``make_train(world, config)`` returns ``train(key) -> (params, tables)``, a pure function
of its key: ``jax.vmap(train)(keys)`` trains many seeds at once. ``params`` are the
network's arrays (`eqx.combine` them with `PPOTrainer.static`); ``tables`` are the
network's action probabilities at every state at each record, which `ppo` evaluates
exactly for the trace (returns under R, U and every goal, in training and deployment).

One compiled program serves many worlds. The program takes the environment as an
argument (`training_env`): its states padded to a power of two with unreachable terminal
states, and (for the MLP) its observations flattened and padded with zeros to a power of
two. Worlds that fall in the same bucket (both neural scenarios do) share the
program, compiled once per process and kept in JAX's persistent cache between processes.

The algorithm is the clipped-surrogate PPO of Schulman et al. (2017) as PureJaxRL and
Stable-Baselines3 run it: ``n_envs`` environments stepped for ``n_steps`` each, GAE(λ)
advantages normalised per minibatch, ``epochs`` passes over shuffled minibatches,
clipped value loss, an entropy bonus, gradient clipping, Adam. Episodes cut by the time
limit bootstrap from the value of the state they reached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from alignlens.envs.functional import EnvParams, env_params, reset, step
from alignlens.learned import Learned, Runs
from alignlens.optimizers.trace import trace_of
from alignlens.policies.neural import Architecture, actor_critic, greedy_table
from alignlens.policies.tabular import TabularPolicy
from alignlens.precision import float32
from alignlens.progress import report
from alignlens.world.model import World


@dataclass(frozen=True)
class PPOConfig:
    """Settings of PPO.

    Attributes:
        total_steps: the budget in environment steps (all environments together).
        n_envs: environments stepped in parallel.
        n_steps: steps per environment between updates (the rollout length).
        epochs: passes over each rollout.
        minibatches: minibatches per pass.
        learning_rate: Adam's step size (annealed linearly to 0 when ``anneal``).
        anneal: whether the learning rate decays linearly to 0 over training.
        gae_lambda: λ of generalised advantage estimation.
        clip: the ratio clip of the surrogate and of the value loss.
        entropy: weight of the entropy bonus.
        value_coef: weight of the value loss.
        max_grad_norm: gradients are clipped to this global norm.
        architecture: "mlp" or "cnn" (`alignlens.policies.neural`).
        hidden: hidden layer sizes (the MLP's; the CNN uses the first as its dense size).
        max_episode_steps: the time limit of an episode.
        records: how many snapshots of the policy the trace holds.
        state_lookup: evaluate the network once per state and look the results up, where
            the world has fewer states than a rollout (or a minibatch) has samples; the
            same numbers up to float round-off, with fewer network passes.
    """

    total_steps: int = 100_000
    n_envs: int = 16
    n_steps: int = 32
    epochs: int = 4
    minibatches: int = 4
    learning_rate: float = 1e-3
    anneal: bool = True
    gae_lambda: float = 0.95
    clip: float = 0.2
    entropy: float = 0.01
    value_coef: float = 0.5
    max_grad_norm: float = 0.5
    architecture: Architecture = "mlp"
    hidden: tuple[int, ...] = (64, 64)
    max_episode_steps: int = 100
    records: int = 10
    state_lookup: bool = True

    @property
    def batch(self) -> int:
        return self.n_envs * self.n_steps

    @property
    def updates(self) -> int:
        """Updates per record times records (the budget rounded down to whole records)."""
        return self.updates_per_record * self.records

    @property
    def updates_per_record(self) -> int:
        return max(1, self.total_steps // (self.batch * self.records))


@dataclass(frozen=True, eq=False)
class PPOTrainer:
    """The jitted training function and what is needed to read its output."""

    train: Callable[[jax.Array], tuple[Any, jax.Array]]
    static: Any
    params: EnvParams
    config: PPOConfig

    def model(self, params: Any) -> Any:
        """The network from the arrays `train` returned."""
        return eqx.combine(params, self.static)


def bucket(n: int) -> int:
    """The size ``n`` states (or features) are padded to: the next power of two."""
    return 1 << max(0, n - 1).bit_length()


def training_env(world: World, config: PPOConfig) -> EnvParams:
    """The training levels as the compiled program reads them: states padded to their
    `bucket` (terminal, unreachable, seeing nothing), R and U as the rewards (the program
    needs no goals), and for the MLP each observation flattened and padded with zeros to
    its `bucket` of features (the network pads what it sees the same way, so it acts alike
    on either form)."""
    env = env_params(world, "train", max_steps=config.max_episode_steps)
    n, pad = world.n_states, bucket(world.n_states) - world.n_states
    observations = env.observations
    if config.architecture == "mlp":
        flat = observations.reshape(n, -1)
        width = bucket(flat.shape[1])
        observations = jnp.pad(flat, ((0, 0), (0, width - flat.shape[1])))

    def states(x: jax.Array, fill: float | bool) -> jax.Array:
        return jnp.pad(x, [(0, pad)] + [(0, 0)] * (x.ndim - 1), constant_values=fill)

    loops = jnp.broadcast_to(
        jnp.arange(n, n + pad, dtype=env.next_state.dtype)[:, None, None],
        (pad, *env.next_state.shape[1:]),
    )
    return EnvParams(
        next_state=jnp.concatenate([env.next_state, loops]),
        successor_cdf=states(env.successor_cdf, 1.0),
        start_cdf=states(env.start_cdf, 1.0),
        terminal=states(env.terminal, True),
        rewards=jnp.pad(env.rewards[:2], ((0, 0), (0, pad), (0, 0))),
        observations=states(observations, 0.0),
        max_steps=env.max_steps,
    )


def make_train(world: World, config: PPOConfig) -> PPOTrainer:
    """Build ``train(key) -> (params, tables [records, S, A])`` for the training levels."""
    with float32():
        env = training_env(world, config)
        gamma = jnp.asarray(world.discount, dtype=jnp.float32)
    program = _compiled(config, tuple(env.observations.shape[1:]), world.n_actions)
    n = world.n_states

    def train(key: jax.Array) -> tuple[Any, jax.Array]:
        with float32():
            carry, keys = program.start(key, env)
            carry, tables = _records(program, carry, list(keys), env, gamma)
            return carry[0], jnp.stack([table[:n] for table in tables])

    return PPOTrainer(train, program.static, env, config)


def _records(
    program: Program,
    carry: Any,
    keys: list[jax.Array],
    env: EnvParams,
    gamma: jax.Array,
    recorded: Callable[[int], None] = lambda _: None,
) -> tuple[Any, list[jax.Array]]:
    """Run `Program.chunk` once per record key; the carry after the last, and every record's
    table. ``recorded`` hears how many records are done after each."""
    tables = []
    for i, key in enumerate(keys):
        carry, table = program.chunk(carry, key, env, gamma)
        tables.append(table)
        recorded(i + 1)
    return carry, tables


class Program(NamedTuple):
    """The compiled pieces of PPO for one config and one shape of environment.

    Attributes:
        start: ``(key, env) -> (carry, record_keys)``: a fresh network, optimiser state and
            environments, and the key of each record.
        chunk: ``(carry, key, env, gamma) -> (carry, table)``: the updates of one record,
            then the network's action probabilities at every state.
        static: the static part of the network (`eqx.combine` it with trained params).
    """

    start: Callable[..., Any]
    chunk: Callable[..., Any]
    static: Any


@functools.cache
def _compiled(
    config: PPOConfig, obs_shape: tuple[int, ...], n_actions: int, *, seeds: bool = False
) -> Program:
    """`_program` jitted (over a batch of keys when ``seeds``), once per process for each
    config and shape of environment."""
    start, chunk, static = _program(config, obs_shape, n_actions)
    if seeds:
        start = jax.vmap(start, in_axes=(0, None))
        chunk = jax.vmap(chunk, in_axes=(0, 0, None, None))
    return Program(jax.jit(start), jax.jit(chunk), static)


def _program(
    config: PPOConfig, obs_shape: tuple[int, ...], n_actions: int
) -> tuple[Callable[..., Any], Callable[..., Any], Any]:
    """The ``start`` and ``chunk`` functions of `Program` (not yet jitted) for one config
    and one shape of environment, and the static part of the network."""
    model0 = actor_critic(
        config.architecture, obs_shape, n_actions, config.hidden, key=jax.random.PRNGKey(0)
    )
    _, static = eqx.partition(model0, eqx.is_array)
    n_updates = config.updates
    schedule = (
        optax.linear_schedule(
            config.learning_rate, 0.0, n_updates * config.epochs * config.minibatches
        )
        if config.anneal
        else config.learning_rate
    )
    optimizer = optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm), optax.adam(schedule, eps=1e-5)
    )
    mb_size = config.batch // config.minibatches
    f32 = jnp.float32

    def chunk(carry: tuple, key: jax.Array, env: EnvParams, gamma: jax.Array) -> tuple:
        n_states = env.observations.shape[0]
        # The observation is a function of the state, and the network is fixed during a
        # rollout: when the world has fewer states than a rollout has steps, one forward
        # pass over every state's observation per update, then a lookup per step, is the
        # same computation with fewer passes. Likewise for a minibatch larger than the world.
        lookup_rollout = config.state_lookup and n_states <= config.batch
        lookup_loss = config.state_lookup and n_states <= mb_size

        def forward(params: Any, obs: jax.Array) -> tuple[jax.Array, jax.Array]:
            return jax.vmap(eqx.combine(params, static))(obs)

        def at_states(params: Any, table: Any, s: jax.Array) -> tuple[jax.Array, jax.Array]:
            """Logits and values at state indices ``s`` (from ``table`` when there is one)."""
            if table is not None:
                return table[0][s], table[1][s]
            return forward(params, env.observations[s])

        def loss_fn(params: Any, batch: dict) -> jax.Array:
            table = forward(params, env.observations) if lookup_loss else None
            logits, values = at_states(params, table, batch["state"])
            log_probs = jax.nn.log_softmax(logits)
            log_p = jnp.take_along_axis(log_probs, batch["action"][:, None], axis=1)[:, 0]
            ratio = jnp.exp(log_p - batch["log_p"])
            adv = batch["advantage"]
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            surrogate = jnp.minimum(
                ratio * adv, jnp.clip(ratio, 1 - config.clip, 1 + config.clip) * adv
            )
            clipped_v = batch["value"] + jnp.clip(
                values - batch["value"], -config.clip, config.clip
            )
            value_loss = 0.5 * jnp.maximum(
                (values - batch["target"]) ** 2, (clipped_v - batch["target"]) ** 2
            )
            entropy = -(jnp.exp(log_probs) * log_probs).sum(-1)
            return (
                -surrogate.mean()
                + config.value_coef * value_loss.mean()
                - config.entropy * entropy.mean()
            )

        def env_step(carry: tuple, key: jax.Array) -> tuple[tuple, dict]:
            params, table, states = carry
            k_act, k_env = jax.random.split(key)
            logits, value = at_states(params, table, states.state)
            action = jax.random.categorical(k_act, logits)
            log_p = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], axis=1)[:, 0]
            keys = jax.random.split(k_env, config.n_envs)
            _, states2, reward, done, info = jax.vmap(step, in_axes=(0, 0, 0, None))(
                keys, states, action, env
            )
            # A time limit is not the end of the task: bootstrap from the state reached.
            _, reached_value = at_states(params, table, info["return_state"])
            reward = reward + jnp.where(info["truncated"], gamma * reached_value, 0.0).astype(f32)
            transition = {
                "state": states.state,
                "action": action,
                "log_p": log_p,
                "value": value,
                "reward": reward,
                "done": done,
            }
            return (params, table, states2), transition

        def advantages(traj: dict, last_value: jax.Array) -> tuple[jax.Array, jax.Array]:
            def back(carry: tuple, t: dict) -> tuple[tuple, jax.Array]:
                gae, next_value = carry
                live = 1.0 - t["done"].astype(f32)
                delta = t["reward"] + gamma * next_value * live - t["value"]
                gae = delta + gamma * config.gae_lambda * live * gae
                return (gae, t["value"]), gae

            _, adv = jax.lax.scan(
                back, (jnp.zeros_like(last_value), last_value), traj, reverse=True
            )
            return adv, adv + traj["value"]

        def update(carry: tuple, key: jax.Array) -> tuple[tuple, None]:
            params, opt_state, states = carry
            k_roll, k_epochs = jax.random.split(key)
            table = forward(params, env.observations) if lookup_rollout else None
            (params, _, states), traj = jax.lax.scan(
                env_step, (params, table, states), jax.random.split(k_roll, config.n_steps)
            )
            _, last_value = at_states(params, table, states.state)
            adv, target = advantages(traj, last_value)
            flat = {k: v.reshape(config.batch, *v.shape[2:]) for k, v in traj.items()}
            flat["advantage"], flat["target"] = adv.reshape(-1), target.reshape(-1)

            def epoch(carry: tuple, k: jax.Array) -> tuple[tuple, None]:
                order = jax.random.permutation(k, config.batch)
                shuffled = jax.tree.map(
                    lambda x: x[order].reshape(config.minibatches, mb_size, *x.shape[1:]), flat
                )

                def minibatch(carry: tuple, batch: dict) -> tuple[tuple, None]:
                    params, opt_state = carry
                    grads = jax.grad(loss_fn)(params, batch)
                    updates, opt_state = optimizer.update(grads, opt_state, params)
                    return (eqx.apply_updates(params, updates), opt_state), None

                carry, _ = jax.lax.scan(minibatch, carry, shuffled)
                return carry, None

            (params, opt_state), _ = jax.lax.scan(
                epoch, (params, opt_state), jax.random.split(k_epochs, config.epochs)
            )
            return (params, opt_state, states), None

        carry, _ = jax.lax.scan(update, carry, jax.random.split(key, config.updates_per_record))
        logits, _ = forward(carry[0], env.observations)
        return carry, jax.nn.softmax(logits)

    def start(key: jax.Array, env: EnvParams) -> tuple[tuple, jax.Array]:
        k_model, k_reset, k_run = jax.random.split(key, 3)
        model = actor_critic(config.architecture, obs_shape, n_actions, config.hidden, key=k_model)
        params, _ = eqx.partition(model, eqx.is_array)
        opt_state = optimizer.init(params)
        _, states = jax.vmap(reset, in_axes=(0, None))(
            jax.random.split(k_reset, config.n_envs), env
        )
        return (params, opt_state, states), jax.random.split(k_run, config.records)

    return start, chunk, static


def _result(world: World, config: PPOConfig, seed: int, tables: np.ndarray) -> Learned:
    """The greedy policy of the last record, and the exact trace of every record."""
    tables = np.asarray(tables, dtype=np.float64)
    steps = config.batch * config.updates_per_record * np.arange(1, config.records + 1)
    policy = TabularPolicy.fixed(
        f"PPO {config.architecture}, seed {seed} ({steps[-1]} steps, greedy)",
        greedy_table(tables[-1]),
    )
    return Learned(policy, "ppo", seed, trace_of(world, tables, steps))


def ppo(world: World, config: PPOConfig | None = None, *, seed: int = 0) -> Learned:
    """Train a network by PPO on the training levels; the policy is its greedy version."""
    config = config or PPOConfig()
    trainer = make_train(world, config)
    _, tables = trainer.train(jax.random.PRNGKey(seed))
    return _result(world, config, seed, tables)


@dataclass(frozen=True)
class PPO:
    """PPO on the training levels (`alignlens.optimizers.optimizer.Optimizer`): the learned
    policy is the network's greedy version."""

    config: PPOConfig = field(default_factory=PPOConfig)
    name: ClassVar[str] = "ppo"

    def __call__(self, world: World, key: int) -> Learned:
        return ppo(world, self.config, seed=key)


def ppo_runs(world: World, config: PPOConfig, seeds: Sequence[int]) -> Runs:
    """Train one network per seed, all at once (``jax.vmap`` over the seeds' keys).

    A run's numbers can differ in the last bits from `ppo` with the same seed (batched
    arithmetic rounds differently), so a run is reproduced by `ppo_runs` with the same
    seeds.
    """
    stage = f"training {len(seeds)} networks by PPO"
    report(stage, 0, config.records)
    with float32():
        env = training_env(world, config)
        shape = tuple(env.observations.shape[1:])
        program = _compiled(config, shape, world.n_actions, seeds=True)
        gamma = jnp.asarray(world.discount, dtype=jnp.float32)
        carry, keys = program.start(jnp.stack([jax.random.PRNGKey(s) for s in seeds]), env)
        record_keys = [keys[:, i] for i in range(config.records)]
        _, records = _records(
            program, carry, record_keys, env, gamma, lambda i: report(stage, i, config.records)
        )
    tables = np.stack([np.asarray(t)[:, : world.n_states] for t in records], axis=1)
    sizes = "×".join(map(str, config.hidden))
    return Runs(
        f"neural ({config.architecture} {sizes}, PPO {config.updates * config.batch} steps)",
        tuple(_result(world, config, s, t) for s, t in zip(seeds, tables, strict=True)),
    )
