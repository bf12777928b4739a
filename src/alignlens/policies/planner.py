"""Planners: policies that are explicit optimisers of a declared mesa-objective.

A planner chooses its actions by solving its own objective in the environment it acts
in, and is indifferent among tied actions (uniform over them). A deceptive planner acts on
one objective where an observation feature is present (the overseer's R, in training)
and on its own objective where it is absent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from jaxtyping import Bool, Float

from alignlens.policies.enumerated import EnumeratedClass, product_class
from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.solve.exact.many_policies import optimal_q_many
from alignlens.solve.exact.optimum import optimize
from alignlens.world.model import Environment, World

TIE = 1e-9


def indifferent(q: Float[np.ndarray, "S A"], scale: float) -> Float[np.ndarray, "S A"]:
    """Uniform over the actions within a round-off margin of the best (ties at terminal rows)."""
    best = q.max(axis=1, keepdims=True)
    chosen = q >= best - TIE * max(1.0, scale)
    return chosen / chosen.sum(axis=1, keepdims=True)


def optimal_q(env: Environment, reward: Float[np.ndarray, "S A"]) -> Float[np.ndarray, "S A"]:

    return optimize(env, reward).q


def _per_environment(
    world: World, table_in: Callable[[Environment], np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """The tables in training and deployment (one solve when the dynamics are shared)."""
    train = table_in(world.train)
    deploy = train if world.shared_dynamics else table_in(world.deploy)
    return train, deploy


def planner(world: World, mesa: MesaObjective, *, name: str | None = None) -> TabularPolicy:
    """A planner that pursues ``mesa`` wherever it is."""

    def table_in(env: Environment) -> np.ndarray:
        q = optimal_q(env, mesa.reward)
        return indifferent(q, float(np.abs(q).max(initial=0.0)))

    train, deploy = _per_environment(world, table_in)
    return TabularPolicy(name or f"planner({mesa.name})", train, deploy, mesa)


def deceptive_planner(
    world: World,
    overt: Float[np.ndarray, "S A"],
    own: MesaObjective,
    observed: Bool[np.ndarray, " S"],
    *,
    name: str | None = None,
) -> TabularPolicy:
    """Acts on ``overt`` where ``observed`` (e.g. an oversight feature) holds, on its own
    objective elsewhere; declares its own objective as its mesa-objective."""

    def table_in(env: Environment) -> np.ndarray:
        q_overt, q_own = optimal_q(env, overt), optimal_q(env, own.reward)
        scale = float(max(np.abs(q_overt).max(initial=0.0), np.abs(q_own).max(initial=0.0)))
        return np.where(observed[:, None], indifferent(q_overt, scale), indifferent(q_own, scale))

    train, deploy = _per_environment(world, table_in)
    return TabularPolicy(name or f"deceptive({own.name})", train, deploy, own)


def planner_class(
    world: World,
    components: Mapping[str, Float[np.ndarray, "S A"]],
    weights: Mapping[str, Sequence[float] | np.ndarray],
    *,
    name: str = "planners",
) -> EnumeratedClass:
    """One planner per combination of weights; member n pursues Σ_c w_c·r_c.

    The planners of a chunk are solved together (one batched value iteration in NumPy).
    """
    keys = list(components)
    stacked = np.stack([components[k] for k in keys])  # [C, S, A]

    def reward_of(w: Mapping[str, np.ndarray]) -> np.ndarray:  # [n, S, A]
        return np.einsum("nc,csa->nsa", np.stack([np.atleast_1d(w[k]) for k in keys], 1), stacked)

    def build(w: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        rewards = reward_of(w)

        def tables_in(env: Environment) -> np.ndarray:

            q = optimal_q_many(env, rewards)
            scale = float(np.abs(q).max(initial=0.0))
            return np.stack([indifferent(qi, scale) for qi in q])

        return _per_environment(world, tables_in)

    def mesa(point: dict[str, float]) -> MesaObjective:
        label = ", ".join(f"{k}={point[k]:g}" for k in keys)
        return MesaObjective(label, reward_of({k: np.array([point[k]]) for k in keys})[0])

    return product_class(name, {k: weights[k] for k in keys}, build, mesa)
