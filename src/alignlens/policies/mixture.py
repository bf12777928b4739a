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

from alignlens.policies.tabular import TabularPolicy
from alignlens.world.model import ENVIRONMENTS, World


def mixture_policy(
    world: World,
    members: Sequence[TabularPolicy],
    weights: Float[np.ndarray, " n"],
    *,
    name: str = "mixture",
) -> TabularPolicy:
    """The Markov policy with the same returns as drawing ``members[i]`` with ``weights[i]``.

    The mixture declares a mesa-objective when its heaviest member does.
    """
    from alignlens.solve.evaluation import occupancy

    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    tables = {}
    for env_name in ENVIRONMENTS:
        env = world.environment(env_name)
        numerator = np.zeros((world.n_states, world.n_actions))
        for weight, member in zip(w, members, strict=True):
            table = member.acting_in(env_name)
            numerator += weight * occupancy(env, table)[:, None] * table
        mass = numerator.sum(axis=1, keepdims=True)
        uniform = np.full_like(numerator, 1.0 / world.n_actions)
        tables[env_name] = np.where(mass > 0, numerator / np.where(mass > 0, mass, 1.0), uniform)
    heaviest = members[int(np.argmax(w))]
    return TabularPolicy(name, tables["train"], tables["deploy"], heaviest.mesa)
