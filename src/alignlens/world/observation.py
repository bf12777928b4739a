"""What a neural policy sees of a gridworld state: the level's features, and the agent.

One table for every state of the compiled world, [S, H, W, F + 1]: channel f is 1 where a
tile shows feature f (by default each tile type shows itself and floor nothing; a world
file may declare otherwise, e.g. that the red exit of training and the red object of
deployment look alike), and the last channel marks the agent. Levels smaller than the
largest are padded with wall. The JAX environment, the Gymnasium wrapper and the exact
analysis of a network all read this one table, so they never disagree about what the
agent saw.
"""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from alignlens.errors import WorldError
from alignlens.world.model import World


def grid_observations(world: World) -> Float[np.ndarray, "S H W C"]:
    """The observation of every state (float32); states outside the grid (a horizon's end)
    see nothing."""
    grid = world.grid
    if grid is None:
        raise WorldError(
            "neural observations need a gridworld",
            field="gridworld",
            fix="write the world as ASCII levels, or give the policy class an observation map",
        )
    height = max(level.shape[0] for level in grid.levels)
    width = max(level.shape[1] for level in grid.levels)
    n_features = len(grid.features)
    planes = np.zeros((len(grid.levels), height, width, n_features), dtype=np.float32)
    for j, level in enumerate(grid.levels):
        padded = np.zeros((height, width), dtype=np.int64)  # tile type 0 is wall
        padded[: level.shape[0], : level.shape[1]] = level
        planes[j] = grid.tile_features[padded]
    out = np.zeros((world.n_states, height, width, n_features + 1), dtype=np.float32)
    real = np.flatnonzero(world.base_state >= 0)
    base = world.base_state[real]
    out[real, ..., :n_features] = planes[grid.level[base]]
    out[real, grid.row[base], grid.col[base], n_features] = 1.0
    return out


def aliased_states(observations: Float[np.ndarray, "S ..."]) -> int:
    """How many states share their observation with another state."""
    flat = observations.reshape(observations.shape[0], -1)
    _, inverse, counts = np.unique(flat, axis=0, return_inverse=True, return_counts=True)
    return int((counts[inverse.ravel()] > 1).sum())
