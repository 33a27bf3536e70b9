"""DAG files -> registered DAG documents (JSON), the form the control plane stores and schedules.

The document's JSON schema is `docs/dag-document.schema.json`. Only what the server needs to
schedule is included: task code stays in the bundle and runs on workers.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from slipstream.sdk._asset import Asset
from slipstream.sdk._baseoperator import BaseOperator
from slipstream.sdk._dag import DAG
from slipstream.sdk._loader import load_dags

SCHEMA_VERSION = 1

# Presets become plain cron expressions so the scheduler needs one parser only.
_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_CRON = re.compile(r"^\S+(\s+\S+){4,5}$")


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _schedule(dag: DAG) -> dict[str, Any] | None:
    schedule = dag.schedule
    if schedule is None:
        return None
    if isinstance(schedule, str):
        cron = _PRESETS.get(schedule, schedule)
        if not _CRON.match(cron):
            raise ValueError(f"DAG {dag.dag_id!r}: schedule {schedule!r} is not a cron expression or preset")
        return {"cron": cron}
    if isinstance(schedule, timedelta):
        if schedule <= timedelta(0):
            raise ValueError(f"DAG {dag.dag_id!r}: schedule interval must be positive")
        return {"interval_seconds": int(schedule.total_seconds())}
    if schedule and all(isinstance(asset, Asset) for asset in schedule):
        return {"assets": [asset.name for asset in schedule]}
    raise ValueError(f"DAG {dag.dag_id!r}: unsupported schedule {schedule!r}")


def _task(task: BaseOperator) -> dict[str, Any]:
    return {
        "task_id": task.task_id,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": task.trigger_rule.value,
        "retries": task.retries,
        "retry_delay": task.retry_delay.total_seconds(),
        "retry_exponential_backoff": task.retry_exponential_backoff,
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "queue": task.queue,
        "operator": task.operator_name,
        "outlets": [{"name": asset.name, "uri": asset.uri} for asset in task.outlets],
    }


def serialize_dag(dag: DAG, fileloc: str, bundle_name: str) -> dict[str, Any]:
    """The document of one DAG; `fileloc` is the file's path relative to its bundle root."""
    return {
        "schema_version": SCHEMA_VERSION,
        "dag_id": dag.dag_id,
        "fileloc": fileloc,
        "bundle_name": bundle_name,
        "fail_fast": dag.fail_fast,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "schedule": _schedule(dag),
        "start_date": None if dag.start_date is None else dag.start_date.isoformat(),
        "catchup": dag.catchup,
        "params": dag.params,
        "tags": dag.tags,
        "tasks": [_task(task) for task in sorted(dag.tasks, key=lambda t: t.task_id)],
        **({} if dag.dagrun_timeout is None else {"dagrun_timeout": dag.dagrun_timeout.total_seconds()}),
    }


def serialize_file(path: Path, bundle_root: Path, bundle_name: str = "dags-folder") -> list[dict[str, Any]]:
    """The documents of every DAG `path` defines, sorted by dag_id."""
    fileloc = path.resolve().relative_to(bundle_root.resolve()).as_posix()
    dags = load_dags(path)
    return [serialize_dag(dags[dag_id], fileloc, bundle_name) for dag_id in sorted(dags)]
