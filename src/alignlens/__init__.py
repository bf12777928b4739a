"""alignlens: exact numbers and a verdict under every definition of inner and outer alignment."""

from alignlens.diagnosis import Diagnosis, diagnose
from alignlens.errors import AlignlensError, PolicyError, SolverError, WorldError
from alignlens.optimizers import exhaustive
from alignlens.policies import EnumeratedClass, MesaObjective, TabularPolicy
from alignlens.tolerances import Tolerances
from alignlens.world import Environment, World, load_world, world_from_dict

__all__ = [
    "AlignlensError",
    "Diagnosis",
    "EnumeratedClass",
    "Environment",
    "MesaObjective",
    "PolicyError",
    "SolverError",
    "TabularPolicy",
    "Tolerances",
    "World",
    "WorldError",
    "diagnose",
    "exhaustive",
    "load_world",
    "world_from_dict",
]
__version__ = "0.1.0"
