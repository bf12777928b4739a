"""64-bit JAX where alignlens needs it, and nowhere else: calling an exact-gradient
optimiser or the sweep's world generator leaves the caller's JAX in 32 bits, and their
results are 64-bit NumPy arrays whoever calls them."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from alignlens.optimizers.gradient_descent import GradientDescentConfig, gradient_descent
from alignlens.optimizers.policy_gradient import PolicyGradientConfig, make_train, policy_gradient
from alignlens.precision import float64, in_float64
from alignlens.sweep.generator import WorldSpec, random_batch
from alignlens.world import load_world


def test_the_switch_is_scoped_to_the_computation(examples) -> None:
    world = load_world(examples / "forked-training.toml")
    assert not jax.config.jax_enable_x64
    learned = policy_gradient(world, PolicyGradientConfig(steps=5))
    assert learned.policy.train.dtype == np.float64
    logits, trace = make_train(world, PolicyGradientConfig(steps=5))(jax.random.PRNGKey(0))
    assert isinstance(logits, np.ndarray) and logits.dtype == np.float64
    assert trace.dtype == np.float64
    scans = load_world(examples / "scans.toml")
    fitted = gradient_descent(scans, GradientDescentConfig(steps=50, trace_every=25))
    assert fitted.policy.train.dtype == np.float64
    assert all(v.dtype == np.float64 for v in fitted.trace.returns.values())
    batch = random_batch(WorldSpec(states=4, actions=2), [0, 1])
    assert batch.prob.dtype == np.float64 and batch.reward.dtype == np.float64
    assert not jax.config.jax_enable_x64
    assert jnp.zeros(1).dtype == jnp.float32  # the caller's JAX is as it was


def test_in_float64_computes_in_64_bits_for_a_32_bit_caller() -> None:
    third = in_float64(lambda: jnp.ones(1) / 3.0)()
    assert third.dtype == jnp.float64
    assert float(third[0]) == 1.0 / 3.0  # exactly the float64 quotient
    with float64():
        assert jnp.zeros(1).dtype == jnp.float64
    assert jnp.zeros(1).dtype == jnp.float32
