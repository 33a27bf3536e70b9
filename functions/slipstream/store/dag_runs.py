"""Dag runs and their task instances: creation, lookups, and the moves into `queued`.

A run item and its TIs share the partition `RUN#<dag>#<run>`; a run is created with all its TIs
(state null), as Airflow's scheduler does. Runs are also indexed on GSI1 by DAG and sort date
(logical date, else run_after) for listings and "previous run" lookups, which decide nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from uuid6 import uuid7

from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, parse_time, shifted, utcnow
from slipstream.store.errors import AlreadyExists, NotFound
from slipstream.store.table import ConditionFailed, Table, TransactionCancelled, put_action, update_action
from slipstream.store.table import values as _values

TRANSACTION_LIMIT = 100
RUNS_QUEUED = "RUNSTATUS#queued"
"""GSI2 partition of runs waiting to start (paused DAG or no free max_active_runs slot)."""
RUN_DEADLINES = "RUNDEADLINE"
"""GSI2 partition of running runs with a dagrun_timeout, sorted by the time they time out."""

RUN_FIELDS = (
    "dag_id",
    "run_id",
    "logical_date",
    "data_interval_start",
    "data_interval_end",
    "run_after",
    "start_date",
    "end_date",
    "clear_number",
    "run_type",
    "state",
    "triggering_user_name",
    "partition_key",
    "partition_date",
    "note",
)


class DagRunNotFound(NotFound):
    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__(f"Dag run with dag_id '{dag_id}' and run_id '{run_id}' was not found")


def wire_dag_run(run: Item) -> dict[str, Any]:
    """The run as the Execution API's `DagRun` model shows it (exactly its keys)."""
    out: dict[str, Any] = {name: run.get(name) for name in RUN_FIELDS}
    out["clear_number"] = int(run.get("clear_number", 0))
    out["conf"] = json.loads(run["conf"]) if "conf" in run else None
    out["consumed_asset_events"] = json.loads(run.get("consumed_asset_events", "[]"))
    out["team_name"] = None
    return out


def new_task_instance(run: Item, task: dict[str, Any], map_index: int = -1) -> Item:
    """A TI item (state null) for one task of the registered DAG document."""
    return {
        "PK": keys.run_pk(run["dag_id"], run["run_id"]),
        "SK": keys.ti_sk(task["task_id"], map_index),
        "id": str(uuid7()),
        "dag_id": run["dag_id"],
        "run_id": run["run_id"],
        "task_id": task["task_id"],
        "map_index": map_index,
        "try_number": 0,
        "max_tries": int(task.get("retries", 0)),
        "queue": task.get("queue") or "default",
        "pool_slots": 1,
        "priority_weight": 1,
        "operator": task.get("operator"),
        "dag_version_id": run["dag_version_id"],
        "fail_fast": bool(run.get("fail_fast", False)),
        "task": json.dumps(task, separators=(",", ":")),
    }


def run_item(run: Item) -> Item:
    """The stored run: its keys, its listing index (GSI1), and on GSI2 either the queue of runs
    waiting to start or, once running with a dagrun_timeout, its deadline."""
    sort_date = run.get("logical_date") or run["run_after"]
    item = {
        **run,
        "PK": keys.run_pk(run["dag_id"], run["run_id"]),
        "SK": keys.RUN_SK,
        "GSI1PK": keys.dag_pk(run["dag_id"]),
        "GSI1SK": f"{sort_date}#{run['run_id']}",
        "sort_date": sort_date,
    }
    if run["state"] == "queued":
        item.update(waiting_index(item))
    else:
        item.update(started_index(run, parse_time(run["start_date"]) or utcnow()))
    return {k: v for k, v in item.items() if v is not None or k not in ("GSI2PK", "GSI2SK")}


def waiting_index(run: Item) -> dict[str, str]:
    """GSI2 of a run waiting to start: by DAG, then in the order Airflow starts them (logical
    date, else run_after), so a DAG's waiting runs are one short range of the index."""
    return {"GSI2PK": RUNS_QUEUED, "GSI2SK": f"{run['dag_id']}#{run['sort_date']}#{run['run_id']}"}


def waiting_values(run: Item) -> dict[str, str]:
    """`waiting_index` as the values of an update's `GSI2PK = :waiting, GSI2SK = :position`."""
    index = waiting_index(run)
    return {"waiting": index["GSI2PK"], "position": index["GSI2SK"]}


def started_index(run: Item, start: datetime) -> dict[str, str | None]:
    """GSI2 of a run started at `start`: its deadline if it has a dagrun_timeout, else none."""
    timeout = run.get("dagrun_timeout")
    if timeout is None:
        return {"GSI2PK": None, "GSI2SK": None}
    deadline = fmt_time(shifted(start, timedelta(seconds=float(timeout))))
    return {"GSI2PK": RUN_DEADLINES, "GSI2SK": f"{deadline}#{run['dag_id']}#{run['run_id']}"}


class DagRuns:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def create(
        self, run: Item, tasks: Iterable[dict[str, Any]], extra_actions: list[dict[str, Any]] | None = None
    ) -> Item:
        """Create the run item (queued) and one TI per task. The run's own put is conditional, so
        a duplicated trigger (same run_id) creates nothing and raises AlreadyExists."""
        item = run_item(run)
        tis = [new_task_instance(item, task) for task in tasks]
        extra = extra_actions or []
        head = TRANSACTION_LIMIT - 1 - len(extra)
        first, rest = tis[:head], tis[head:]
        try:
            self.table.transact(
                [
                    put_action(item, "attribute_not_exists(PK)"),
                    *extra,
                    *(put_action(ti, "attribute_not_exists(PK)") for ti in first),
                ]
            )
        except TransactionCancelled:
            raise AlreadyExists(
                f"A run already exists for Dag '{run['dag_id']}' with run_id '{run['run_id']}'"
            ) from None
        for start in range(0, len(rest), TRANSACTION_LIMIT):
            chunk = rest[start : start + TRANSACTION_LIMIT]
            self.table.transact([put_action(ti, "attribute_not_exists(PK)") for ti in chunk])
        return item

    def get(self, dag_id: str, run_id: str) -> Item:
        item = self.table.get(keys.run_pk(dag_id, run_id), keys.RUN_SK)
        if item is None:
            raise DagRunNotFound(dag_id, run_id)
        return item

    def find(self, dag_id: str, run_id: str) -> Item | None:
        return self.table.get(keys.run_pk(dag_id, run_id), keys.RUN_SK)

    def with_task_instances(self, dag_id: str, run_id: str) -> tuple[Item | None, list[Item]]:
        """The run and its live TIs in one strongly consistent Query."""
        items = self.table.query(keys.run_pk(dag_id, run_id), prefix=keys.RUN_SK)
        run = next((i for i in items if i["SK"] == keys.RUN_SK), None)
        return run, [i for i in items if i["SK"] != keys.RUN_SK]

    def list_for_dag(
        self, dag_id: str, *, newest_first: bool = True, before: str | None = None
    ) -> list[Item]:
        """Runs of one DAG ordered by sort date (GSI1, eventually consistent: listings only)."""
        if before is None:
            return self.table.query(keys.dag_pk(dag_id), index=keys.GSI1, forward=not newest_first)
        return self.table.query(keys.dag_pk(dag_id), index=keys.GSI1, below=before, forward=not newest_first)

    def waiting(self, dag_id: str) -> list[str]:
        """Ids of the DAG's runs waiting to start, oldest first (GSI2: eventually consistent, so a
        run queued a moment ago may be missing; the timer's sweep finds it)."""
        entries = self.table.query(RUNS_QUEUED, index=keys.GSI2, prefix=f"{dag_id}#")
        return [str(entry["PK"]).removeprefix(keys.run_pk(dag_id, "")) for entry in entries]

    def mark_queued(self, ti: Item, run: Item) -> bool:
        """Move a TI from the state it was read in into `queued`; False if it moved meanwhile."""
        try:
            self.table.apply(queue_action(ti, run))
        except ConditionFailed:
            return False
        return True


def queued_fields(ti: Item, run: Item, delay: float = 0.0) -> Item:
    """What queueing sets on a TI read in state `ti["state"]`: try_number goes up by one except
    when coming back from up_for_reschedule; the TI keeps a snapshot of its run (the `dag_run`
    that `/run` returns) so that `/run` is one round trip. Its GSI2 sort key is when its message,
    sent `delay` seconds late, becomes visible: the timer counts the resend period from there."""
    bump = 0 if ti.get("state") == "up_for_reschedule" else 1
    now = utcnow()
    return {
        "state": "queued",
        "try_number": int(ti.get("try_number", 0)) + bump,
        "dag_run": json.dumps(wire_dag_run(run), separators=(",", ":")),
        "queued_at": fmt_time(now),
        "GSI2PK": keys.status_pk("queued"),
        "GSI2SK": fmt_time(now + timedelta(seconds=delay)),
    }


def queue_action(ti: Item, run: Item, delay: float = 0.0) -> dict[str, Any]:
    """The conditional write that moves a TI from the state it was read in into `queued`."""
    fields = queued_fields(ti, run, delay)
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    vals: dict[str, Any] = {f"f{i}": value for i, value in enumerate(fields.values())}
    vals["id"] = ti["id"]
    condition = "#id = :id AND " + state_is(ti, vals)
    return update_action(
        ti["PK"],
        ti["SK"],
        "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
        condition,
        names={**names, "#state": "state", "#id": "id"},
        values=_values(**vals),
    )


def state_is(item: Item, vals: dict[str, Any]) -> str:
    """A condition that `item` is still in the state it was read in (null included); adds the
    value it needs to `vals` as `:was`."""
    if item.get("state") is None:
        return "attribute_not_exists(#state)"
    vals["was"] = item["state"]
    return "#state = :was"
