"""Exact-gradient softmax policy gradient, on the tabular class or over an enumerated class.

Tabular: the policy is softmax(θ) per state; J^train_R(θ) is computed exactly by a dense
linear solve and differentiated through it (JAX). Enumerated mixture: the policy draws
member i with probability softmax(θ)_i per episode, so J(θ) = Σ_i softmax(θ)_i J_i with
every J_i exact. Either way the only imperfection is the budget: a fixed number of
steps. Softmax policy gradient approaches a deterministic optimum only as the logits grow
without bound, so a finite budget always stops short by some amount; how far short is
what the trace shows. The tabular form is meant for small worlds (dense solves).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from jaxtyping import Float

from alignlens.errors import AlignlensError
from alignlens.learned import TRACE_KEYS, Learned, Trace
from alignlens.policies.enumerated import EnumeratedClass
from alignlens.policies.mixture import mixture_tables
from alignlens.policies.tabular import TabularPolicy
from alignlens.precision import as_numpy, float64, in_float64
from alignlens.solve.exact.enumerated import member_returns
from alignlens.world.model import Environment, World

DENSE_LIMIT = 400


@dataclass(frozen=True)
class PolicyGradientConfig:
    """Settings of exact-gradient softmax policy gradient.

    Attributes:
        steps: the budget, in gradient steps.
        learning_rate: the step size.
        method: "sgd" (plain gradient ascent) or "adam".
        init_scale: standard deviation of the initial logits (0: the uniform policy).
    """

    steps: int = 2000
    learning_rate: float = 0.1
    method: Literal["sgd", "adam"] = "adam"
    init_scale: float = 0.0


def make_train(world: World, config: PolicyGradientConfig) -> Callable:
    """``train(key) -> (logits [S, A], returns [steps, 4])``, jitted end to end, computed in
    64 bits whatever the caller's precision and returned as NumPy arrays."""
    import jax

    if world.n_states > DENSE_LIMIT:
        raise AlignlensError(
            f"exact policy gradient solves dense systems; this world has {world.n_states} states",
            field="optimizer",
            fix=f"use it on worlds of at most {DENSE_LIMIT} states",
        )
    train = make_train_arrays(world.n_states, world.n_actions, config)
    arrays = world_arrays(world)
    return as_numpy(jax.jit(lambda key: train(key, arrays)))


@in_float64
def world_arrays(world: World, successors: int | None = None) -> tuple:
    """What `make_train_arrays`'s ``train`` reads of a world: each environment's successor
    arrays (padded with impossible successors to ``successors`` slots), terminal states and
    start distribution, the rewards of R and U, and γ (float64)."""
    import jax.numpy as jnp

    def env_arrays(e: Environment) -> tuple:
        pad = (successors or e.next_state.shape[2]) - e.next_state.shape[2]
        widths = ((0, 0), (0, 0), (0, pad))
        return (
            jnp.asarray(np.pad(e.next_state, widths)),
            jnp.asarray(np.pad(e.prob, widths)),
            jnp.asarray(e.terminal),
            jnp.asarray(e.start),
        )

    rewards = jnp.asarray(np.stack([world.base, world.intended]))
    return (env_arrays(world.train), env_arrays(world.deploy), rewards, jnp.asarray(world.discount))


def make_train_arrays(n_states: int, n_actions: int, config: PolicyGradientConfig) -> Callable:
    """``train(key, arrays) -> (logits [S, A], returns [steps, 4])`` for the world given as
    `world_arrays`: a pure function of its inputs, so ``jax.vmap`` trains a batch of worlds
    of one shape at once. Trace and call it inside `alignlens.precision.float64()`, as its
    arrays are."""
    import jax
    import jax.numpy as jnp
    import optax

    def dense_returns(next_state, prob, terminal, start, rewards, discount, policy):
        """J of one policy under M rewards [M], by a dense solve, differentiable in the
        policy."""
        n, a, k = next_state.shape
        weight = jnp.where(terminal[:, None, None], 0.0, policy[:, :, None] * prob)
        rows = jnp.broadcast_to(jnp.arange(n)[:, None, None], (n, a, k))
        p = jnp.zeros((n, n), dtype=prob.dtype)
        p = p.at[rows.ravel(), next_state.ravel()].add(weight.ravel())
        r = jnp.where(terminal[None, :], 0.0, jnp.sum(policy[None] * rewards, axis=2))  # [M, S]
        values = jnp.linalg.solve(jnp.eye(n, dtype=prob.dtype) - discount * p, r.T)  # [S, M]
        return start @ values

    tx = (
        optax.adam(config.learning_rate)
        if config.method == "adam"
        else optax.sgd(config.learning_rate)
    )

    def train(key: jax.Array, arrays: tuple) -> tuple[jax.Array, jax.Array]:
        train_env, deploy_env, rewards, discount = arrays

        def returns(logits: jax.Array) -> jax.Array:  # [4]: train R, train U, deploy R, deploy U
            policy = jax.nn.softmax(logits, axis=-1)
            return jnp.concatenate(
                [dense_returns(*e, rewards, discount, policy) for e in (train_env, deploy_env)]
            )

        def objective(logits: jax.Array) -> jax.Array:
            return returns(logits)[0]

        logits = config.init_scale * jax.random.normal(key, (n_states, n_actions))
        state = tx.init(logits)

        def step(carry: tuple, _: None) -> tuple[tuple, jax.Array]:
            logits, state = carry
            grad = jax.grad(objective)(logits)
            # Optax mixes its integer step count with floats: allow that promotion here.
            with jax.numpy_dtype_promotion("standard"):
                updates, state = tx.update(-grad, state, logits)  # ascent on J
                logits = optax.apply_updates(logits, updates)
            return (logits, state), returns(logits)

        (logits, _), trace = jax.lax.scan(step, (logits, state), None, length=config.steps)
        return logits, trace

    return train


@in_float64
def policy_gradient_many(
    worlds: Sequence[World],
    config: PolicyGradientConfig,
    seeds: Sequence[int],
    *,
    batch: int = 32,
) -> list[Learned]:
    """`policy_gradient` on many worlds of one shape (states, actions) in one vmapped call,
    world i from seed i. The call always has ``batch`` slots (the last worlds repeated to
    fill them), so a world's result does not depend on which others share its call."""
    import jax
    import jax.numpy as jnp

    if len(worlds) > batch:
        return policy_gradient_many(worlds[:batch], config, seeds[:batch], batch=batch) + (
            policy_gradient_many(worlds[batch:], config, seeds[batch:], batch=batch)
        )
    n, a = worlds[0].n_states, worlds[0].n_actions
    if n > DENSE_LIMIT:
        raise AlignlensError(
            f"exact policy gradient solves dense systems; these worlds have {n} states",
            field="optimizer",
            fix=f"use it on worlds of at most {DENSE_LIMIT} states",
        )
    real = len(worlds)
    worlds = [*worlds, *[worlds[-1]] * (batch - real)]
    seeds = [*seeds, *[seeds[-1]] * (batch - real)]
    k = max(max(w.train.next_state.shape[2], w.deploy.next_state.shape[2]) for w in worlds)
    arrays = jax.tree.map(lambda *xs: jnp.stack(xs), *(world_arrays(w, k) for w in worlds))
    keys = jnp.stack([jax.random.PRNGKey(s) for s in seeds])
    train = make_train_arrays(n, a, config)
    logits, traces = jax.jit(jax.vmap(train))(keys, arrays)
    probabilities = np.asarray(jax.nn.softmax(logits, axis=-1), dtype=np.float64)
    return [
        _result(TabularPolicy.fixed(f"policy gradient ({config.steps} steps)", p), np.asarray(t), s)
        for p, t, s in zip(probabilities[:real], traces[:real], seeds[:real], strict=True)
    ]


def make_train_mixture(returns: Float[np.ndarray, "N 4"], config: PolicyGradientConfig) -> Callable:
    """``train(key) -> (logits [N], mixture returns [steps, 4])`` for member returns
    (columns train R, train U, deploy R, deploy U), in 64 bits, as NumPy arrays, jitted end
    to end (one compiled program
    per class size and config: the returns are an argument, not a constant)."""
    import jax.numpy as jnp

    with float64():
        table = jnp.asarray(returns, dtype=jnp.float64)
    program = as_numpy(_mixture_program(config))
    return lambda key: program(key, table)


@functools.cache
def _mixture_program(config: PolicyGradientConfig) -> Callable:
    import jax
    import optax

    tx = (
        optax.adam(config.learning_rate)
        if config.method == "adam"
        else optax.sgd(config.learning_rate)
    )

    def train(key: jax.Array, table: jax.Array) -> tuple[jax.Array, jax.Array]:
        def objective(logits: jax.Array) -> jax.Array:
            return jax.nn.softmax(logits) @ table[:, 0]

        logits = config.init_scale * jax.random.normal(key, (table.shape[0],))

        def step(carry: tuple, _: None) -> tuple[tuple, jax.Array]:
            logits, state = carry
            with jax.numpy_dtype_promotion("standard"):  # Optax's integer step count
                updates, state = tx.update(-jax.grad(objective)(logits), state, logits)
                logits = optax.apply_updates(logits, updates)
            return (logits, state), jax.nn.softmax(logits) @ table

        (logits, _), trace = jax.lax.scan(
            step, (logits, tx.init(logits)), None, length=config.steps
        )
        return logits, trace

    return jax.jit(train)


@in_float64
def policy_gradient(
    world: World,
    config: PolicyGradientConfig | None = None,
    *,
    seed: int = 0,
    policy_class: EnumeratedClass | None = None,
) -> Learned:
    """Train softmax(θ) on J^train_R for ``config.steps`` exact-gradient steps: per state
    (tabular), or as a mixture over the members of ``policy_class``; in 64 bits."""
    import jax

    config = config or PolicyGradientConfig()
    if policy_class is not None:
        return _mixture(world, policy_class, config, seed)
    logits, trace = make_train(world, config)(jax.random.PRNGKey(seed))
    probabilities = np.asarray(jax.nn.softmax(logits, axis=-1), dtype=np.float64)
    policy = TabularPolicy.fixed(f"policy gradient ({config.steps} steps)", probabilities)
    return _result(policy, np.asarray(trace), seed)


def _result(policy: TabularPolicy, values: np.ndarray, seed: int) -> Learned:
    """The result, with the per-step returns [steps, 4] as its trace."""
    steps = np.arange(1, values.shape[0] + 1)
    trace = Trace(steps, {k: values[:, i] for i, k in enumerate(TRACE_KEYS)})
    return Learned(policy, "policy-gradient", seed, trace)


def _mixture(
    world: World, cls: EnumeratedClass, config: PolicyGradientConfig, seed: int
) -> Learned:
    import jax

    j = member_returns(world, cls, {"base": world.base, "intended": world.intended})
    table = np.stack([j[tuple(k.split("_"))] for k in TRACE_KEYS], axis=1)  # type: ignore[index]
    logits, trace = make_train_mixture(table, config)(jax.random.PRNGKey(seed))
    weights = np.asarray(jax.nn.softmax(logits), dtype=np.float64)
    keep = np.flatnonzero(weights > 1e-12 * weights.max())
    train, deploy = mixture_tables(world, *cls.tables(keep), weights[keep])
    heaviest = cls.mesa(int(keep[np.argmax(weights[keep])]))  # the mixture's declared mesa
    name = f"policy-gradient mixture ({config.steps} steps)"
    policy = TabularPolicy(name, train, deploy, heaviest)
    return _result(policy, np.asarray(trace), seed)
