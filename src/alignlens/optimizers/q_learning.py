"""Tabular Q-learning: ε-greedy exploration on sampled transitions, with a step budget.

Episodes start from the training start distribution and end at terminal states (or after
``max_episode_steps``). Pairs that are never tried keep their initial value, so in states
the agent never visited — deployment-only states above all — the greedy policy is
indifferent among all actions: what a Q-learner that never saw lava does near lava.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alignlens.optimizers.result import TrainingResult, trace_of
from alignlens.policies.planner import indifferent
from alignlens.policies.tabular import TabularPolicy
from alignlens.world.model import World


@dataclass(frozen=True)
class QLearningConfig:
    """Settings of tabular Q-learning.

    Attributes:
        steps: the budget, in environment steps (a multiple of ``trace_every``).
        learning_rate: α, the step size of each update.
        exploration: ε, the probability of a uniformly random action.
        initial_value: Q of every state and action before any update.
        max_episode_steps: episodes are cut after this many steps (and restarted).
        trace_every: record the greedy policy's exact returns every this many steps.
    """

    steps: int = 50_000
    learning_rate: float = 0.5
    exploration: float = 0.2
    initial_value: float = 0.0
    max_episode_steps: int = 200
    trace_every: int = 1000


def greedy_policy(q: np.ndarray) -> np.ndarray:
    """Uniform over the actions of highest Q (all of them where nothing was learned)."""
    return indifferent(q, float(np.abs(q).max(initial=0.0)))


def make_train(world: World, config: QLearningConfig) -> Callable:
    """``train(key) -> (Q [S, A], Q snapshots [records, S, A])``, jitted end to end."""
    import jax
    import jax.numpy as jnp

    from alignlens.solve import backup_jax  # noqa: F401  (float64 everywhere)

    env = world.train
    next_state = jnp.asarray(env.next_state)
    log_prob = jnp.log(jnp.asarray(env.prob))
    terminal = jnp.asarray(env.terminal)
    log_start = jnp.log(jnp.asarray(env.start))
    reward = jnp.asarray(world.base)
    gamma = world.discount
    n_actions = world.n_actions
    records = max(1, config.steps // config.trace_every)

    def step(carry: tuple, key: jax.Array) -> tuple[tuple, None]:
        q, s, t = carry
        k_reset, k_explore, k_random, k_next = jax.random.split(key, 4)
        restart = terminal[s] | (t >= config.max_episode_steps)
        s = jnp.where(restart, jax.random.categorical(k_reset, log_start).astype(s.dtype), s)
        t = jnp.where(restart, 0, t)
        explore = jax.random.uniform(k_explore) < config.exploration
        greedy = jnp.argmax(q[s] + 1e-12 * jax.random.uniform(k_random, (n_actions,)))
        a = jnp.where(explore, jax.random.randint(k_random, (), 0, n_actions), greedy)
        slot = jax.random.categorical(k_next, log_prob[s, a])
        s_next = next_state[s, a, slot]
        target = reward[s, a] + gamma * jnp.where(terminal[s_next], 0.0, jnp.max(q[s_next]))
        q = q.at[s, a].add(config.learning_rate * (target - q[s, a]))
        return (q, s_next, t + 1), None

    def chunk(carry: tuple, key: jax.Array) -> tuple[tuple, jax.Array]:
        carry, _ = jax.lax.scan(step, carry, jax.random.split(key, config.trace_every))
        return carry, carry[0]

    def train(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        k_start, k_run = jax.random.split(key)
        q0 = jnp.full((world.n_states, n_actions), config.initial_value)
        s0 = jax.random.categorical(k_start, log_start).astype(next_state.dtype)
        (q, _, _), snapshots = jax.lax.scan(
            chunk, (q0, s0, jnp.asarray(0)), jax.random.split(k_run, records)
        )
        return q, snapshots

    return jax.jit(train)


def q_learning(
    world: World, config: QLearningConfig | None = None, *, seed: int = 0
) -> TrainingResult:
    """Learn Q on sampled training transitions; the policy is greedy in the final Q."""
    import jax

    config = config or QLearningConfig()
    q, snapshots = make_train(world, config)(jax.random.PRNGKey(seed))
    tables = np.stack([greedy_policy(np.asarray(s, dtype=np.float64)) for s in snapshots])
    policy = TabularPolicy.fixed(
        f"Q-learning ({config.steps} steps)", greedy_policy(np.asarray(q, dtype=np.float64))
    )
    steps = config.trace_every * np.arange(1, len(tables) + 1)
    return TrainingResult(policy, "q-learning", seed, trace_of(world, tables, steps))
