"""The tour's runner: worker processes give the same runs as one process does, every run is
reported as it arrives, and the neural scenarios share one worker."""

from __future__ import annotations

import json

import pytest

from alignlens.report.document import document_of
from alignlens.scenarios import run_scenario
from alignlens.scenarios import tour as tour_module
from alignlens.scenarios.tour import TourJob, job_groups, run_tour, tour_jobs

JOBS = [TourJob("virus"), TourJob("masturbation"), TourJob("masturbation", perfect=True)]


@pytest.mark.parametrize("workers", [1, 2])
def test_runs_arrive_as_they_finish_and_equal_one_at_a_time(monkeypatch, workers: int) -> None:
    monkeypatch.setattr(tour_module, "tour_jobs", lambda: list(JOBS))
    arrived, stages = [], []
    runs, perfect = run_tour(
        workers=workers,
        listener=lambda *update: stages.append(update[:2]),
        arrived=lambda run: arrived.append(run.scenario.id),
    )
    assert sorted(arrived) == ["masturbation", "virus"]  # own optimiser only, each once
    assert [(r.scenario.id, r.optimizer) for r in runs] == [
        ("virus", "exhaustive"),
        ("masturbation", "evolution"),
    ]
    # virus's own optimiser is the perfect one: its run is in both tables.
    assert [(r.scenario.id, r.optimizer) for r in perfect] == [
        ("virus", "exhaustive"),
        ("masturbation", "exhaustive"),
    ]
    assert ("masturbation (exhaustive)", "done") in stages
    for run in (*runs, *perfect):
        alone = document_of(run_scenario(run.scenario.id, run.optimizer).diagnosis)
        assert json.dumps(document_of(run.diagnosis), sort_keys=True) == json.dumps(
            alone, sort_keys=True
        )


def test_the_neural_scenarios_run_together_first() -> None:
    groups = job_groups(tour_jobs())
    assert [j.scenario for j in groups[0]] == ["red-door-exit-neural", "coin"]
    assert all(len(g) == 1 for g in groups[1:])
    assert sum(len(g) for g in groups) == len(tour_jobs())
