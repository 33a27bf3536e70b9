"""`make bench`'s areas run end to end on tiny sample counts and return their figures (no timing checks)."""

from __future__ import annotations

import pytest

from slipstream.bench import api, scheduler, worker


def _assert_figures(figures: dict[str, float], names: set[str]) -> None:
    assert set(figures) == names
    assert all(isinstance(value, int | float) and value >= 0 for value in figures.values()), figures


def test_api_warm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "WARM_SAMPLES", 2)
    endpoints = (
        "run",
        "heartbeat_new_token",
        "heartbeat",
        "xcom_set",
        "xcom_get",
        "state",
        "state_on_another_instance",
        "state_without_fast_path",
        "health",
    )
    names = {f"api.{e}.{figure}" for e in endpoints for figure in ("warm_ms", "own_ms", "ddb_round_trips")}
    figures = api.warm()
    _assert_figures(figures, names)
    # round trips are counts, not timings: the targets hold exactly
    trips = {e: figures[f"api.{e}.ddb_round_trips"] for e in ("run", "heartbeat", "state")}
    assert trips == {"run": 1, "heartbeat": 1, "state": 1}
    assert figures["api.state_on_another_instance.ddb_round_trips"] == 2


def test_scheduler_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "SAMPLES", 2)
    figures = scheduler.latency()
    _assert_figures(
        figures, {"scheduler.latency_ms", "scheduler.latency_ddb_ms", "scheduler.stream_latency_ms"}
    )


@pytest.mark.e2e
def test_worker_noop_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "RUNS", 2)
    monkeypatch.setattr(worker, "SOLO_RUNS", 2)
    figures = worker.noop_tasks()
    _assert_figures(
        figures,
        {
            "worker.overhead_ms",
            "worker.tasks_per_second",
            "task.http_calls",
            "task.ddb_round_trips",
            "task.ddb_round_trips.trigger",
            "task.ddb_round_trips.execution_api",
            "task.ddb_round_trips.stream",
        },
    )
    assert figures["task.http_calls"] == 2  # /run and /state: a no-op task asks for nothing else
