"""The essay's cases as runnable scenarios (docs/scenarios.md)."""

from alignlens.scenarios.catalogue import run_scenario, scenarios
from alignlens.scenarios.scenario import Scenario, ScenarioRun, diagnose_exhaustive

__all__ = ["Scenario", "ScenarioRun", "diagnose_exhaustive", "run_scenario", "scenarios"]
