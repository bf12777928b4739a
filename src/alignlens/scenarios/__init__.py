"""The essay's cases as runnable scenarios (DESIGN §4)."""

from alignlens.scenarios.registry import Scenario, ScenarioRun, run_scenario, scenarios

__all__ = ["Scenario", "ScenarioRun", "run_scenario", "scenarios"]
