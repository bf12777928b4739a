"""The neural policy class: Equinox actor-critic networks over the grid observation.

Two architectures: an MLP over the flattened observation (tanh, separate actor and
critic, as Stable-Baselines3's ``MlpPolicy``), and a small CNN (two 3×3 convolutions,
then a dense layer) shared by both heads. Everything is float32.

Exact analysis: one batched forward pass over the observation of every state gives the
network's action probabilities as a tabular stochastic policy, and everything the
solvers and lenses do applies to it exactly. A learned stochastic policy is judged by
its greedy version (the most likely action; exact ties split evenly), the policy it
converges to as training sharpens it, so that "fully optimised" (regret ≤ ε) can hold;
the diagnosis records this as ``"policy_judged": "greedy"`` in its tolerances.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from alignlens.policies.planner import indifferent
from alignlens.policies.tabular import TabularPolicy

Architecture = Literal["mlp", "cnn"]
Judged = Literal["greedy", "stochastic"]


class MLPActorCritic(eqx.Module):
    """Separate tanh MLPs for the action logits and the value, over the flat observation
    (zero-padded to the network's input size when it has fewer features)."""

    actor: eqx.nn.MLP
    critic: eqx.nn.MLP
    size: int = eqx.field(static=True)

    def __init__(
        self, obs_shape: Sequence[int], n_actions: int, hidden: Sequence[int], *, key: Array
    ) -> None:
        k_actor, k_critic = jax.random.split(key)
        size = int(np.prod(obs_shape))
        self.size = size
        width, depth = (hidden[0], len(hidden)) if hidden else (0, 0)
        common = {"width_size": width, "depth": depth, "activation": jnp.tanh}
        self.actor = eqx.nn.MLP(size, n_actions, **common, dtype=jnp.float32, key=k_actor)
        self.critic = eqx.nn.MLP(size, "scalar", **common, dtype=jnp.float32, key=k_critic)

    def __call__(self, obs: Float[Array, "H W C"]) -> tuple[Float[Array, " A"], Float[Array, ""]]:
        flat = obs.reshape(-1)
        flat = jnp.pad(flat, (0, self.size - flat.shape[0]))  # an unpadded observation
        return self.actor(flat), self.critic(flat)


class CNNActorCritic(eqx.Module):
    """Two 3×3 convolutions (ReLU) and a dense layer, shared by the two heads."""

    conv1: eqx.nn.Conv2d
    conv2: eqx.nn.Conv2d
    dense: eqx.nn.Linear
    actor: eqx.nn.Linear
    critic: eqx.nn.Linear

    def __init__(
        self,
        obs_shape: Sequence[int],
        n_actions: int,
        hidden: Sequence[int],
        *,
        key: Array,
        channels: int = 16,
    ) -> None:
        height, width, depth = obs_shape
        keys = jax.random.split(key, 5)
        f32 = {"dtype": jnp.float32}
        size = hidden[0] if hidden else 64
        self.conv1 = eqx.nn.Conv2d(depth, channels, 3, padding=1, key=keys[0], **f32)
        self.conv2 = eqx.nn.Conv2d(channels, channels, 3, padding=1, key=keys[1], **f32)
        self.dense = eqx.nn.Linear(channels * height * width, size, key=keys[2], **f32)
        self.actor = eqx.nn.Linear(size, n_actions, key=keys[3], **f32)
        self.critic = eqx.nn.Linear(size, "scalar", key=keys[4], **f32)

    def __call__(self, obs: Float[Array, "H W C"]) -> tuple[Float[Array, " A"], Float[Array, ""]]:
        x = jnp.transpose(obs, (2, 0, 1))  # channels first
        x = jax.nn.relu(self.conv2(jax.nn.relu(self.conv1(x))))
        x = jax.nn.relu(self.dense(x.reshape(-1)))
        return self.actor(x), self.critic(x)


ActorCritic = MLPActorCritic | CNNActorCritic


def actor_critic(
    architecture: Architecture,
    obs_shape: Sequence[int],
    n_actions: int,
    hidden: Sequence[int] = (64, 64),
    *,
    key: Array,
) -> ActorCritic:
    """A freshly initialised network of the named architecture."""
    if architecture == "mlp":
        return MLPActorCritic(obs_shape, n_actions, hidden, key=key)
    return CNNActorCritic(obs_shape, n_actions, hidden, key=key)


def action_logits(model: ActorCritic, observations: Float[Array, "S H W C"]) -> Float[Array, "S A"]:
    """The logits at every state, in one batched forward pass."""
    return jax.vmap(lambda o: model(o)[0])(observations)


def neural_policy(
    model: ActorCritic,
    observations: Float[np.ndarray, "S H W C"],
    *,
    name: str = "neural",
    judged: Judged = "greedy",
) -> TabularPolicy:
    """The network as a tabular policy (the same table in both environments: it sees only
    observations): its greedy version, or its action probabilities as they are."""
    logits = np.asarray(action_logits(model, jnp.asarray(observations)), dtype=np.float64)
    if judged == "greedy":
        table = greedy_table(logits)
    else:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        table = shifted / shifted.sum(axis=1, keepdims=True)
    return TabularPolicy.fixed(f"{name} ({judged})", table)


def greedy_table(probabilities: Float[np.ndarray, "S A"]) -> Float[np.ndarray, "S A"]:
    """The greedy version of a table of action probabilities or logits (exact ties split
    evenly)."""
    return indifferent(np.asarray(probabilities, dtype=np.float64), 0.0)
