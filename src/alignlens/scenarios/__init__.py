"""The essay's cases as runnable scenarios (docs/scenarios.md)."""

from alignlens.scenarios.registry import (
    Scenario,
    ScenarioRun,
    diagnose_exhaustive,
    run_scenario,
    scenarios,
)

__all__ = ["Scenario", "ScenarioRun", "diagnose_exhaustive", "run_scenario", "scenarios"]
