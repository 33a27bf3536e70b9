"""Creating and clearing dag runs (shared by the Execution API, the management API and the scheduler)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from uuid6 import uuid7

from slipstream.services.scheduling import start_new_run
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.dag_runs import DagRuns, waiting_values
from slipstream.store.dags import DagNotFound, Dags, run_limit_of
from slipstream.store.table import TransactionCancelled, update_action
from slipstream.store.table import values as _values

RUN_TYPE_PREFIX = {
    "manual": "manual",
    "scheduled": "scheduled",
    "operator_triggered": "manual",
    "asset_triggered": "asset_triggered",
    "backfill": "backfill",
}


def generate_run_id(run_type: str, logical_date: datetime | None, run_after: datetime) -> str:
    """Airflow's `<type>__<iso date>` run ids, e.g. `manual__2026-07-01T12:00:00+00:00`."""
    when = logical_date or run_after
    return f"{RUN_TYPE_PREFIX.get(run_type, run_type)}__{when.isoformat()}"


def trigger(
    dag_id: str,
    *,
    run_id: str | None,
    run_type: str,
    logical_date: datetime | None,
    run_after: datetime | None = None,
    conf: dict[str, Any] | None = None,
    triggering_user_name: str | None = None,
    note: str | None = None,
    data_interval: tuple[datetime, datetime] | None = None,
    consumed_asset_events: list[dict[str, Any]] | None = None,
    partition_key: str | None = None,
    extra_actions: list[dict[str, Any]] | None = None,
) -> Item:
    """Create a run and its TIs: running with its first tasks queued when the DAG has a free
    max_active_runs slot (one transaction), else queued. Raises DagNotFound or AlreadyExists
    (duplicate run_id).

    `extra_actions` join the transaction that creates the run (e.g. consuming asset events)."""
    dag = Dags().get(dag_id, consistent=True)
    document = json.loads(dag["document"])
    now = utcnow()
    run_after = run_after or logical_date or now
    if run_id is None:
        run_id = generate_run_id(run_type, logical_date, run_after)
    params = {name: value for name, value in (document.get("params") or {}).items()}
    merged_conf = {**params, **(conf or {})}
    timeout = document.get("dagrun_timeout")
    interval = data_interval or ((logical_date, logical_date) if logical_date else None)
    run: Item = {
        "dag_id": dag_id,
        "run_id": run_id,
        "logical_date": fmt_time(logical_date) if logical_date else None,
        "data_interval_start": fmt_time(interval[0]) if interval else None,
        "data_interval_end": fmt_time(interval[1]) if interval else None,
        "run_after": fmt_time(run_after),
        "start_date": None,
        "end_date": None,
        "clear_number": 0,
        "run_type": run_type,
        "state": "queued",
        "conf": json.dumps(merged_conf),
        "triggering_user_name": triggering_user_name,
        "consumed_asset_events": json.dumps(consumed_asset_events or []),
        "partition_key": partition_key,
        "note": note,
        "queued_at": fmt_time(now),
        "fail_fast": bool(document.get("fail_fast", False)),
        "dagrun_timeout": None if timeout is None else Decimal(str(timeout)),
        "max_active_tasks": document.get("max_active_tasks"),
        "dag_version_id": dag["dag_version_id"],
        "bundle_name": document.get("bundle_name", "dags-folder"),
        "fileloc": document.get("fileloc"),
    }
    store = DagRuns()
    tasks = document.get("tasks", [])
    limit = run_limit_of(dag)
    if not dag.get("is_paused") and len(dag.get("active_runs") or ()) < limit:
        started = start_new_run(store, run, tasks, extra_actions or [], limit)
        if started is not None:
            return started
    return store.create(run, tasks, extra_actions=extra_actions or [])


def require_dag(dag_id: str) -> Item:
    try:
        return Dags().get(dag_id)
    except DagNotFound:
        raise dag_not_found(dag_id) from None


def dag_not_found(dag_id: str) -> DagNotFound:
    """The 404 Airflow's run routes answer for an unknown DAG."""
    return DagNotFound(f"Dag with dag_id: '{dag_id}' not found")


def clear(dag_id: str, run_id: str, *, task_ids: set[str] | None = None) -> list[Item]:
    """Re-run a run (or some of its tasks): each cleared TI gets a new id and starts over.

    As in Airflow: a running TI becomes `restarting` (its worker's next heartbeat sees the id has
    moved and stops the task); any other TI becomes null with `max_tries = try_number + retries`.
    The run goes back to `queued`. One transaction per 99 TIs, each update conditioned on the id
    that was read, so a TI that moved meanwhile is never clobbered. Returns the cleared TIs as
    the clear left them.
    """
    runs = DagRuns()
    for _attempt in range(5):
        run, tis = runs.with_task_instances(dag_id, run_id)
        if run is None:
            runs.get(dag_id, run_id)
        assert run is not None
        selected = [ti for ti in tis if task_ids is None or ti["task_id"] in task_ids]
        cleared = [_cleared(ti) for ti in selected]
        actions = [_clear_action(old, new) for old, new in zip(selected, cleared, strict=True)]
        run_update = update_action(
            keys.run_pk(dag_id, run_id),
            keys.RUN_SK,
            "SET #state = :queued, clear_number = clear_number + :one, GSI2PK = :waiting, GSI2SK = :position"
            " REMOVE end_date, start_date",
            names={"#state": "state"},
            values=_values(queued="queued", one=1, **waiting_values(run)),
        )
        try:
            head, rest = actions[:99], actions[99:]
            runs.table.transact([run_update, *head])
            for start in range(0, len(rest), 100):
                runs.table.transact(rest[start : start + 100])
        except TransactionCancelled:
            continue
        return cleared
    raise RuntimeError("clear kept racing with concurrent updates")


def _cleared(ti: Item) -> Item:
    """The TI as clearing leaves it: a new id; a running one `restarting`, any other null with
    `max_tries = try_number + retries`."""
    task = json.loads(ti.get("task", "{}"))
    item = {**ti, "id": str(uuid7()), "cleared": True}
    item["max_tries"] = int(ti.get("try_number", 0)) + int(task.get("retries", 0))
    item.pop("end_date", None)
    if ti.get("state") == "running":
        now = fmt_time(utcnow())
        item.update(state="restarting", GSI2PK=keys.status_pk("restarting"), GSI2SK=now)
    else:
        for name in ("state", "start_date", "hostname", "pid", "unixname", "GSI2PK", "GSI2SK"):
            item.pop(name, None)
    return item


def _clear_action(ti: Item, cleared: Item) -> dict[str, Any]:
    sets = "#id = :new, cleared = :true, max_tries = :max_tries"
    vals: dict[str, Any] = {
        "old": ti["id"],
        "new": cleared["id"],
        "true": True,
        "max_tries": cleared["max_tries"],
    }
    if cleared.get("state"):
        sets += ", #state = :state, GSI2PK = :status, GSI2SK = :now"
        vals.update(state=cleared["state"], status=cleared["GSI2PK"], now=cleared["GSI2SK"])
        removes = " REMOVE end_date"
    else:
        removes = " REMOVE #state, end_date, start_date, hostname, pid, unixname, GSI2PK, GSI2SK"
    return update_action(
        ti["PK"],
        ti["SK"],
        "SET " + sets + removes,
        "#id = :old",
        names={"#id": "id", "#state": "state"},
        values=_values(**vals),
    )
