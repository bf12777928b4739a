"""Worlds: the two environments, the objectives, and the files that describe them."""

from alignlens.world.files import load_world, world_from_dict
from alignlens.world.model import ENVIRONMENTS, Environment, GridLayout, World

__all__ = ["ENVIRONMENTS", "Environment", "GridLayout", "World", "load_world", "world_from_dict"]
