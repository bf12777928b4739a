"""alignlens: exact numbers and a verdict under every definition of inner and outer alignment."""

from alignlens.errors import AlignlensError, PolicyError, SolverError, WorldError
from alignlens.world import Environment, World, load_world, world_from_dict

__all__ = [
    "AlignlensError",
    "Environment",
    "PolicyError",
    "SolverError",
    "World",
    "WorldError",
    "load_world",
    "world_from_dict",
]
__version__ = "0.1.0"
