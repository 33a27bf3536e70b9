"""Read-only questions tasks ask about other runs and task instances (counts, states, previous runs).

These decide nothing, so run listings come from GSI1; the TIs of each selected run come from the
run's partition.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.store.codec import Item, fmt_time, parse_time
from slipstream.store.dag_runs import DagRuns
from slipstream.store.dags import DagNotFound, Dags
from slipstream.store.errors import NotFound
from slipstream.store.task_instances import TERMINAL_STATES, TaskInstances


class TaskGroupNotFound(NotFound):
    pass


def _duration(ti: Item) -> float | None:
    start, end = parse_time(ti.get("start_date")), parse_time(ti.get("end_date"))
    return (end - start).total_seconds() if start and end else None


def select_task_instances(
    dag_id: str,
    map_index: int | None,
    task_ids: list[str] | None,
    task_group_id: str | None,
    logical_dates: Iterable[datetime] | None,
    run_ids: list[str] | None,
) -> list[Item]:
    wanted_tasks: set[str] | None = set(task_ids) if task_ids else None
    if task_group_id is not None:
        document = Dags().get_document(dag_id)
        members = {
            t["task_id"]
            for t in document.get("tasks", [])
            if t["task_id"].startswith(task_group_id + ".") or t.get("task_group") == task_group_id
        }
        if not members:
            raise TaskGroupNotFound(f"Task group {task_group_id} not found in DAG {dag_id}")
        wanted_tasks = members if wanted_tasks is None else wanted_tasks & members
    runs = DagRuns()
    if run_ids:
        selected = list(run_ids)
    else:
        all_runs = runs.list_for_dag(dag_id)
        if logical_dates:
            dates = {fmt_time(d) for d in logical_dates}
            all_runs = [r for r in all_runs if r.get("logical_date") in dates]
        selected = [r["run_id"] for r in all_runs]
    if task_group_id is None and not selected:
        try:
            Dags().get_document(dag_id)
        except DagNotFound:
            raise DagNotFound(f"The Dag with ID: `{dag_id}` was not found") from None
    tis = TaskInstances()
    out = []
    for run_id in selected:
        for ti in tis.list_run(dag_id, run_id):
            if wanted_tasks is not None and ti["task_id"] not in wanted_tasks:
                continue
            if map_index is not None and int(ti.get("map_index", -1)) != map_index:
                continue
            out.append(ti)
    return out


def breadcrumbs(dag_id: str, run_id: str) -> list[dict[str, Any]]:
    tis = [ti for ti in TaskInstances().list_run(dag_id, run_id) if ti.get("state") in TERMINAL_STATES]
    tis.sort(key=lambda ti: (ti["task_id"], int(ti.get("map_index", -1))))
    return [
        {
            "task_id": ti["task_id"],
            "map_index": int(ti.get("map_index", -1)),
            "state": ti.get("state"),
            "operator": ti.get("operator"),
            "duration": _duration(ti),
        }
        for ti in tis
    ]


def previous_task_instance(
    dag_id: str, task_id: str, logical_date: datetime | None, map_index: int, state: str | None
) -> dict[str, Any] | None:
    runs = DagRuns()
    tis = TaskInstances()
    before = fmt_time(logical_date) if logical_date else None
    for run in runs.list_for_dag(dag_id, before=before):
        if before is not None and (run.get("logical_date") is None or run["logical_date"] >= before):
            continue
        ti = tis.get(TIKey(dag_id, run["run_id"], task_id, map_index))
        if ti is None or (state is not None and ti.get("state") != state):
            continue
        return {
            "task_id": task_id,
            "dag_id": dag_id,
            "run_id": run["run_id"],
            "logical_date": run.get("logical_date"),
            "start_date": ti.get("start_date"),
            "end_date": ti.get("end_date"),
            "state": ti.get("state"),
            "try_number": int(ti.get("try_number", 0)),
            "map_index": map_index,
            "duration": _duration(ti),
        }
    return None


def previous_successful_dag_run(key: TIKey) -> dict[str, Any]:
    empty = {"data_interval_start": None, "data_interval_end": None, "start_date": None, "end_date": None}
    runs = DagRuns()
    current = runs.find(key.dag_id, key.run_id)
    if current is None or not current.get("logical_date"):
        return empty
    for run in runs.list_for_dag(key.dag_id, before=current["logical_date"]):
        logical = run.get("logical_date")
        if logical and logical < current["logical_date"] and run.get("state") == "success":
            return {name: run.get(name) for name in empty}
    return empty
