"""A population as one policy: the mixture that draws a member per episode.

Drawing member i with probability w_i for a whole episode has, in each environment, the
occupancy measure Σ_i w_i d_i (d_i the member's discounted state occupancy), and the
Markov policy π(a|s) = Σ_i w_i d_i(s) π_i(a|s) / Σ_i w_i d_i(s) has that same occupancy.
So this table reproduces the mixture's return under every reward exactly; it is
computed per environment, since occupancies depend on where episodes start.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from jaxtyping import Float

from alignlens.policies.tabular import MesaObjective, TabularPolicy
from alignlens.solve.exact.evaluation import occupancies
from alignlens.world.model import ENVIRONMENTS, World


def mixture_policy(
    world: World,
    members: Sequence[TabularPolicy],
    weights: Float[np.ndarray, " n"],
    *,
    name: str = "mixture",
) -> TabularPolicy:
    """The Markov policy with the same returns as drawing ``members[i]`` with ``weights[i]``.

    The mixture carries its heaviest member's mesa-objective, if it has one, as held by
    that member (the population's competence at it is measured, not checked).
    """
    tables = {env: np.stack([m.acting_in(env) for m in members]) for env in ENVIRONMENTS}
    train, deploy = mixture_tables(world, tables["train"], tables["deploy"], weights)
    heaviest = members[int(np.argmax(weights))]
    mesa = heaviest.mesa
    if mesa is not None:
        holder = f"its heaviest member, {heaviest.name}"
        mesa = MesaObjective(mesa.name, mesa.reward, mesa.holder or holder)
    return TabularPolicy(name, train, deploy, mesa)


def mixture_tables(
    world: World,
    train: Float[np.ndarray, "n S A"],
    deploy: Float[np.ndarray, "n S A"],
    weights: Float[np.ndarray, " n"],
) -> tuple[Float[np.ndarray, "S A"], Float[np.ndarray, "S A"]]:
    """The training and deployment tables of the mixture of members with these tables:
    π(a|s) = Σ_i w_i d_i(s) π_i(a|s) / Σ_i w_i d_i(s), uniform where no member goes."""

    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    out = []
    for env_name, tables in zip(ENVIRONMENTS, (train, deploy), strict=True):
        d = occupancies(world.environment(env_name), tables)
        numerator = np.einsum("n,ns,nsa->sa", w, d, tables)
        mass = numerator.sum(axis=1, keepdims=True)
        uniform = np.full_like(numerator, 1.0 / world.n_actions)
        out.append(np.where(mass > 0, numerator / np.where(mass > 0, mass, 1.0), uniform))
    return out[0], out[1]
