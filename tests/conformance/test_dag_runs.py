"""Real Airflow DAGs, run by Airflow's own task runtime on `slipstream local up --runtime airflow`.

Each run must end as Airflow would end it: the expected states below are Airflow 3.3's, for the
same DAG files, under its scheduler (spec §6: retries, fail_fast, branch skips).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conformance.conftest import Stack

pytestmark = pytest.mark.conformance

# dag_id -> (run state, {task_id: (state, try_number)}, {task_id: lines the task printed})
EXPECTED: dict[str, tuple[str, dict[str, tuple[str, int]], dict[str, list[str]]]] = {
    "taskflow_xcom": (
        "success",
        {"extract": ("success", 1), "transform": ("success", 1), "load": ("success", 1)},
        {"load": ["loaded 3 rows, total 6"]},
    ),
    "variables_connections": (
        "success",
        {"read": ("success", 1)},
        {"read": ["hello", "42", "fallback", "postgres etl@db.internal:5432/analytics"]},
    ),
    "retried_task": ("success", {"flaky": ("success", 2)}, {}),
    # fail_fast: the running task fails, the one not started is skipped (never tried).
    "fail_fast": (
        "failed",
        {"boom": ("failed", 1), "slow": ("failed", 1), "after_boom": ("skipped", 0)},
        {},
    ),
    "branching": (
        "success",
        {
            "choose": ("success", 1),
            "left": ("success", 1),
            "right": ("skipped", 0),
            "beyond_right": ("skipped", 0),
            "join": ("success", 1),
        },
        {},
    ),
    "long_task": ("success", {"outlive": ("success", 1)}, {"outlive": ["hello"]}),
    # dagrun_timeout: every unfinished task is skipped, the running one included (tried once).
    "timed_out": ("failed", {"stall": ("skipped", 1), "never": ("skipped", 0)}, {}),
}


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_the_run_ends_as_airflow_ends_it(
    dag_id: str, finished_runs: dict[str, dict[str, Any]], airflow_stack: Stack
) -> None:
    run_state, task_states, printed = EXPECTED[dag_id]
    run = finished_runs[dag_id]
    tis = {ti["task_id"]: (ti["state"], ti["try_number"]) for ti in run["task_instances"]}
    assert (run["state"], tis) == (run_state, task_states)
    for task_id, lines in printed.items():
        logs = airflow_stack.shipped_log(dag_id, run["run_id"], task_id)
        # What the task printed, as Airflow's Supervisor logged it, reached our per-try log.
        stdout = [line.partition("task.stdout: ")[2] for line in logs.stdout.splitlines()]
        assert [line for line in stdout if line] == lines


def test_a_failed_try_is_kept_under_its_own_try_number(
    finished_runs: dict[str, dict[str, Any]], airflow_stack: Stack
) -> None:
    run = finished_runs["retried_task"]
    first = airflow_stack.cli("logs", "retried_task", run["run_id"], "flaky", "--try", "1", "--all")
    assert "first try fails on purpose" in first.stdout
