"""The human genotypes of the birth-control and masturbation scenarios: planners whose
genes weight two drives, pleasure and offspring (each weight 0 or 1)."""

from __future__ import annotations

from alignlens.policies.enumerated import EnumeratedClass
from alignlens.policies.planner import planner_class
from alignlens.world.model import World

PLEASURE_DRIVEN = "pleasure=1, offspring=0"


def genotypes(world: World) -> EnumeratedClass:
    """Four planners: pursue Σ w·drive with w_pleasure, w_offspring ∈ {0, 1}."""
    drives = {"pleasure": world.goals["pleasure"], "offspring": world.goals["offspring"]}
    return planner_class(
        world, drives, {"pleasure": [0.0, 1.0], "offspring": [0.0, 1.0]}, name="genotypes"
    )
