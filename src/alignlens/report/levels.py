"""Gridworld levels as reports show them: which levels each environment starts in, tile
labels that read without colour, and a policy's most likely path."""

from __future__ import annotations

import numpy as np
from jaxtyping import Float

from alignlens.world.model import World

PATH_STEPS = 200  # the most likely path stops after this many steps (or at a repeat)


def tile_label(kind: str) -> str:
    """A tile type's label in its cells (readable without colour): its words' initials."""
    return "".join(word[0] for word in kind.split("_") if word).upper()


def levels_of(world: World, env: str) -> list[int]:
    """The gridworld levels an environment starts in, in order."""
    grid = world.grid
    start = world.environment(env).start
    base = world.base_state
    started = {int(grid.level[base[s]]) for s in np.flatnonzero(start > 0) if base[s] >= 0}
    return sorted(started)


def most_likely_path(
    world: World, table: Float[np.ndarray, "S A"], env: str, first: int
) -> list[int]:
    """States visited from ``first`` taking the most likely action and its most likely
    successor each step, until a terminal state, a repeat or `PATH_STEPS` steps."""
    e = world.environment(env)
    path = [first]
    while len(path) <= PATH_STEPS and not e.terminal[path[-1]]:
        s = path[-1]
        a = int(np.argmax(table[s]))
        nxt = int(e.next_state[s, a, int(np.argmax(e.prob[s, a]))])
        if nxt in path:
            break
        path.append(nxt)
    return path
