"""Moving a task instance into `queued` and building the workload a worker receives.

The conditional write decides: a TI is queued once, however many schedulers race for it. The
workload is Airflow's `ExecuteTask` JSON, so Airflow's own `execute_workload` parses it unchanged;
its token is a long-lived workload token bound to this TI id and natural key.
"""

from __future__ import annotations

import json
from typing import Any

from slipstream.auth.tokens import TIKey, mint_task_token
from slipstream.execution_api.datamodels.task_instances import BundleInfo, ExecuteTask, TaskInstance
from slipstream.store.codec import Item
from slipstream.store.dag_runs import DagRuns


def log_path(ti: Item, try_number: int) -> str:
    """Airflow's default log_filename_template, relative to the log folder."""
    mi = int(ti.get("map_index", -1))
    suffix = f"map_index={mi}/" if mi >= 0 else ""
    where = f"dag_id={ti['dag_id']}/run_id={ti['run_id']}/task_id={ti['task_id']}"
    return f"{where}/{suffix}attempt={try_number}.log"


def workload(ti: Item, run: Item, try_number: int) -> dict[str, Any]:
    key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"], int(ti.get("map_index", -1)))
    message = ExecuteTask(
        token=mint_task_token(ti["id"], key, "workload"),
        ti=TaskInstance(
            id=ti["id"],
            task_id=ti["task_id"],
            dag_id=ti["dag_id"],
            run_id=ti["run_id"],
            try_number=try_number,
            dag_version_id=ti["dag_version_id"],
            map_index=key.map_index,
            queue=ti.get("queue", "default"),
            pool_slots=int(ti.get("pool_slots", 1)),
            priority_weight=int(ti.get("priority_weight", 1)),
        ),
        dag_rel_path=str(run.get("fileloc") or ""),
        bundle_info=BundleInfo(name=str(run.get("bundle_name") or "dags-folder")),
        log_path=log_path(ti, try_number),
    )
    return message.model_dump(mode="json")


def queue(ti: Item, run: Item) -> dict[str, Any] | None:
    """Queue one TI read in state `ti["state"]`; None if another writer moved it first."""
    if not DagRuns().mark_queued(ti, run):
        return None
    bump = 0 if ti.get("state") == "up_for_reschedule" else 1
    return workload(ti, run, int(ti.get("try_number", 0)) + bump)


def encode(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))
