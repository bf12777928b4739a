"""alignlens: exact numbers and a verdict under every definition of inner and outer alignment.

The names below are loaded on first use, so ``import alignlens`` stays cheap and a command
pays only for the parts of the library it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alignlens.facade import lazy_names

if TYPE_CHECKING:
    from alignlens.diagnosis import Diagnosis, diagnose
    from alignlens.errors import AlignlensError, PolicyError, SolverError, WorldError
    from alignlens.optimizers import exhaustive
    from alignlens.policies import EnumeratedClass, MesaObjective, TabularPolicy
    from alignlens.tolerances import Tolerances
    from alignlens.world import Environment, World, load_world, world_from_dict

_WHERE = {
    "AlignlensError": "alignlens.errors",
    "Diagnosis": "alignlens.diagnosis",
    "EnumeratedClass": "alignlens.policies",
    "Environment": "alignlens.world",
    "MesaObjective": "alignlens.policies",
    "PolicyError": "alignlens.errors",
    "SolverError": "alignlens.errors",
    "TabularPolicy": "alignlens.policies",
    "Tolerances": "alignlens.tolerances",
    "World": "alignlens.world",
    "WorldError": "alignlens.errors",
    "diagnose": "alignlens.diagnosis",
    "exhaustive": "alignlens.optimizers",
    "load_world": "alignlens.world",
    "world_from_dict": "alignlens.world",
}

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


__getattr__, __dir__ = lazy_names(globals(), _WHERE)
