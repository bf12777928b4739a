"""The scenario catalogue: every case of the essay and its thread, in the order of the
documentation, and how one is run."""

from __future__ import annotations

from collections.abc import Mapping

from alignlens.errors import AlignlensError
from alignlens.scenarios import (
    birth_control,
    coin,
    deception,
    greedy_genes,
    lava_correct,
    lava_ird,
    masturbation,
    mri,
    red_door,
    red_door_neural,
    tessellating_hills,
    virus,
)
from alignlens.scenarios.scenario import Scenario, ScenarioRun


def scenarios() -> dict[str, Scenario]:
    """Every scenario, in the order of the documentation."""
    ordered = [
        virus.SCENARIO,
        birth_control.SCENARIO,
        masturbation.SCENARIO,
        deception.SCENARIO,
        red_door.PROXY,
        red_door.EXIT,
        red_door_neural.SCENARIO,
        lava_ird.SCENARIO,
        lava_correct.SCENARIO,
        mri.SCENARIO,
        coin.SCENARIO,
        greedy_genes.SCENARIO,
        tessellating_hills.SCENARIO,
    ]
    return {s.id: s for s in ordered}


def run_scenario(
    scenario_id: str,
    optimizer: str | None = None,
    seed: int = 0,
    parameters: Mapping[str, float] | None = None,
) -> ScenarioRun:
    """Run a scenario with its default optimiser (or another it supports), and its default
    parameters unless ``parameters`` overrides some."""
    catalogue = scenarios()
    if scenario_id not in catalogue:
        raise AlignlensError(
            f"unknown scenario {scenario_id!r}",
            field="scenario",
            fix=f"use one of {', '.join(catalogue)} (see `alignlens scenarios`)",
        )
    if not 0 <= seed < 2**63:
        raise AlignlensError(
            f"seed {seed} is out of range",
            field="seed",
            fix=f"give a whole number from 0 to {2**63 - 1}",
        )
    scenario = catalogue[scenario_id]
    name = optimizer or scenario.default_optimizer
    if name not in scenario.optimizers:
        raise AlignlensError(
            f"scenario {scenario_id!r} does not run with {name!r}",
            field="optimizer",
            fix=f"use one of {', '.join(scenario.optimizers)}",
        )
    given = dict(parameters or {})
    for key in given:
        if key not in scenario.parameters:
            takes = ", ".join(scenario.parameters) or "none"
            raise AlignlensError(
                f"scenario {scenario_id!r} has no parameter {key!r}",
                field="parameters",
                fix=f"leave it out; {scenario_id} takes {takes}",
            )
    values = {**scenario.parameters, **given}
    return ScenarioRun(scenario, name, seed, scenario.run(name, seed, **given), values)
