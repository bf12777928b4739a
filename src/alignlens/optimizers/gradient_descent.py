"""Gradient descent on a classifier: logistic regression over observations, from sampled data.

For a contextual bandit (every action from a start state ends the episode), a sample is
a start state drawn from the data distribution — training starts, or with
``deploy_share`` λ that fraction from deployment starts — labelled with the action(s) the
base objective rewards most there. The classifier sees only the observation (one-hot), so
states that look alike must share a prediction; it is trained by cross-entropy for a
budget of steps on ``data`` samples, or on the exact expected loss when ``data`` is None
(infinite data). The learned policy predicts the most likely label (uniform over ties).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from alignlens.errors import AlignlensError
from alignlens.learned import Learned
from alignlens.optimizers.trace import trace_of
from alignlens.policies.planner import indifferent
from alignlens.policies.tabular import TabularPolicy
from alignlens.precision import in_float64
from alignlens.world.model import World


@dataclass(frozen=True)
class GradientDescentConfig:
    """Settings of logistic regression by gradient descent.

    Attributes:
        steps: the budget, in full-batch gradient steps (a multiple of ``trace_every``).
        learning_rate: the step size (Adam).
        data: the number of samples, or None for the exact expected loss (infinite data).
        deploy_share: λ, the fraction of the data drawn from deployment starts.
        trace_every: record the predicted policy's exact returns every this many steps.
    """

    steps: int = 500
    learning_rate: float = 0.1
    data: int | None = 1000
    deploy_share: float = 0.0
    trace_every: int = 50


def bandit_labels(world: World) -> np.ndarray:
    """Target distribution per state: uniform over the actions of highest base reward; raises
    unless every action of every start state ends the episode."""
    starts = (world.train.start > 0) | (world.deploy.start > 0)
    for env in (world.train, world.deploy):
        ends = env.terminal[env.next_state] | (env.prob == 0)
        if not np.all(ends[starts]):
            raise AlignlensError(
                "logistic regression needs a contextual bandit (every action from a start state "
                "ends the episode)",
                field="optimizer",
                fix="use another optimiser for worlds with longer episodes",
            )
    best = world.base.max(axis=1, keepdims=True)
    hit = world.base >= best - 1e-12
    return hit / hit.sum(axis=1, keepdims=True)


@functools.cache
def _trainer(steps: int, learning_rate: float) -> Callable:
    """``fit(params, features, targets, weights) -> (params, params after each step)``,
    jitted once per budget and step size (arrays are arguments, not captured constants)."""
    import jax
    import jax.numpy as jnp
    import optax

    tx = optax.adam(learning_rate)

    def fit(
        params: jax.Array, features: jax.Array, targets: jax.Array, weights: jax.Array
    ) -> tuple[jax.Array, jax.Array]:
        def loss(p: jax.Array) -> jax.Array:
            log_p = jax.nn.log_softmax(p[features], axis=-1)
            return -jnp.sum(weights * jnp.sum(targets * log_p, axis=-1))

        def step(carry: tuple, _: None) -> tuple[tuple, jax.Array]:
            p, state = carry
            with jax.numpy_dtype_promotion("standard"):  # Optax's integer step count
                updates, state = tx.update(jax.grad(loss)(p), state, p)
                p = optax.apply_updates(p, updates)
            return (p, state), p

        (params, _), history = jax.lax.scan(step, (params, tx.init(params)), None, length=steps)
        return params, history

    return jax.jit(fit)


@in_float64
def gradient_descent(
    world: World, config: GradientDescentConfig | None = None, *, seed: int = 0
) -> Learned:
    """Fit W [observations, actions] by cross-entropy, in 64 bits; predict argmax per
    observation."""
    import jax
    import jax.numpy as jnp

    config = config or GradientDescentConfig()
    labels = bandit_labels(world)
    share = config.deploy_share
    distribution = (1 - share) * world.train.start + share * world.deploy.start
    key = jax.random.PRNGKey(seed)
    if config.data is None:  # infinite data: every state weighted by its probability
        states, weights = np.flatnonzero(distribution > 0), distribution[distribution > 0]
    else:
        draws = jax.random.choice(key, world.n_states, (config.data,), p=jnp.asarray(distribution))
        states, counts = np.unique(np.asarray(draws), return_counts=True)
        weights = counts / counts.sum()
    features = jnp.asarray(world.observation[states])
    targets = jnp.asarray(labels[states])
    n_obs = len(world.observation_names)
    records = config.steps // config.trace_every
    fit = _trainer(records * config.trace_every, config.learning_rate)
    params, history = fit(
        jnp.zeros((n_obs, world.n_actions)), features, targets, jnp.asarray(weights)
    )
    snapshots = np.asarray(history)[config.trace_every - 1 :: config.trace_every]

    def table(p: np.ndarray) -> np.ndarray:
        return indifferent(np.asarray(p, dtype=np.float64), 1.0)[world.observation]

    tables = (
        np.stack([table(p) for p in snapshots])
        if len(snapshots)
        else np.zeros((0, world.n_states, world.n_actions))
    )
    data = "infinite data" if config.data is None else f"{config.data} samples"
    policy = TabularPolicy.fixed(f"logistic regression ({data})", table(np.asarray(params)))
    steps = config.trace_every * np.arange(1, records + 1)
    return Learned(policy, "gradient-descent", seed, trace_of(world, tables, steps))
