"""A Gymnasium environment for every gridworld world, so any RL library can train on it.

It steps the same compiled arrays as the exact solvers and the JAX environment (NumPy
here): the reward is R's expected reward r(s, a), ``info`` carries U's ("intended") and
each goal's ("goals"), and the observation is the state's row of
`alignlens.world.observation.grid_observations`. ``render_mode="rgb_array"`` draws the
level: one colour per tile type, the agent in white.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np

from alignlens.world.model import World
from alignlens.world.observation import grid_observations

CELL = 8  # pixels per tile in rgb_array renders
AGENT = np.array([255, 255, 255], dtype=np.uint8)
FIXED_COLOURS = {"wall": (40, 40, 40), "floor": (200, 200, 200)}


class GridworldEnv(gym.Env):
    """One environment ("train" or "deploy") of a gridworld world."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        world: World,
        env: Literal["train", "deploy"] = "train",
        *,
        max_episode_steps: int = 100,
        render_mode: str | None = None,
    ) -> None:
        self.world = world
        self.environment = world.environment(env)
        self.observations = grid_observations(world)
        self.max_episode_steps = max_episode_steps
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(
            0.0, 1.0, shape=self.observations.shape[1:], dtype=np.float32
        )
        self.action_space = gym.spaces.Discrete(world.n_actions)
        self._rewards = np.stack([world.base, world.intended, *world.goals.values()])
        self._state = 0
        self._time = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        start = self.environment.start
        self._state = int(self.np_random.choice(start.size, p=start))
        self._time = 0
        return self.observations[self._state].copy(), {"state": self._state}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = int(action)
        if not self.action_space.contains(a):
            raise ValueError(f"action {action!r} is outside {self.action_space}")
        env, s = self.environment, self._state
        slot = int(self.np_random.choice(env.prob.shape[2], p=env.prob[s, a]))
        rewards = self._rewards[:, s, a]
        self._state = int(env.next_state[s, a, slot])
        self._time += 1
        terminated = bool(env.terminal[self._state])
        truncated = not terminated and self._time >= self.max_episode_steps
        info = {
            "state": self._state,
            "intended": float(rewards[1]),
            "goals": dict(zip(self.world.goals, map(float, rewards[2:]), strict=True)),
        }
        return self.observations[self._state].copy(), float(rewards[0]), terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        grid = self.world.grid
        if grid is None:  # unreachable: __init__ built observations, which need a grid
            return None
        base = int(self.world.base_state[self._state])
        level = grid.levels[grid.level[base]] if base >= 0 else grid.levels[0]
        palette = _palette(grid.tile_types)
        image = palette[level]
        if base >= 0:
            image[grid.row[base], grid.col[base]] = AGENT
        return np.kron(image, np.ones((CELL, CELL, 1), dtype=np.uint8))


def _palette(tile_types: tuple[str, ...]) -> np.ndarray:
    """A fixed colour per tile type (wall dark, floor light, the others from a wheel)."""
    colours = []
    for i, kind in enumerate(tile_types):
        if kind in FIXED_COLOURS:
            colours.append(FIXED_COLOURS[kind])
        else:
            hue = (i * 0.381966) % 1.0  # golden-ratio steps keep neighbours apart
            colours.append(tuple(int(255 * c) for c in _hsv(hue)))
    return np.array(colours, dtype=np.uint8)


def _hsv(hue: float) -> tuple[float, float, float]:
    import colorsys

    return colorsys.hsv_to_rgb(hue, 0.8, 0.9)
