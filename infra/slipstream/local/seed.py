"""Seeding a stack with DAGs, runs and queued task instances, the way the scheduler does.

Used by tests and the benchmark to put task instances where a worker would find them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from slipstream.auth.tokens import TIKey, mint_task_token
from slipstream.services import queueing, runs
from slipstream.store.dag_runs import DagRuns
from slipstream.store.dags import Dags


def register_dag(
    dag_id: str = "example", tasks: list[dict[str, Any]] | None = None, **dag: Any
) -> dict[str, Any]:
    document = {
        "schema_version": 1,
        "dag_id": dag_id,
        "fileloc": f"{dag_id}.py",
        "bundle_name": "dags-folder",
        "tasks": tasks or [{"task_id": "hello", "upstream": [], "retries": 0}],
        **dag,
    }
    Dags().put(document, version_id="0197c39f-2222-7ccc-8ddd-0123456789ab", is_paused=False)
    return document


LOGICAL_DATE = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def start_run(dag_id: str = "example", run_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("logical_date", LOGICAL_DATE)
    return runs.trigger(dag_id, run_id=run_id, run_type="manual", **kwargs)


def queue_ti(dag_id: str, run_id: str, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Queue one TI the way the scheduler does, unless the trigger queued it already (a first
    task of a run started at once); returns (TI item as read, ExecuteTask workload)."""
    dag_runs = DagRuns()
    run, tis = dag_runs.with_task_instances(dag_id, run_id)
    assert run is not None
    ti = next(t for t in tis if t["task_id"] == task_id)
    if ti.get("state") == "queued":
        return ti, queueing.workload(ti, run, int(ti["try_number"]))
    message = queueing.queue(ti, run)
    assert message is not None
    return ti, message


def execution_token(ti: dict[str, Any], ttl: int | None = None) -> str:
    key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"], int(ti.get("map_index", -1)))
    return mint_task_token(ti["id"], key, "execution", ttl=ttl)
