"""Marking a dag run `success`, `failed` or `queued`, with Airflow's effect on its task instances.

- success: every task instance not already successful becomes `success`;
- failed: running ones (running, deferred, up_for_reschedule) fail, unfinished ones are skipped;
- queued: the run waits to be started again; task instances are left as they are.

A worker whose task instance was marked sees it at its next heartbeat (409) and stops the task.
Each write is conditioned on the state (and TI id) that was read, and the run moves in the same
transaction as its first 99 task instances; if anything moved meanwhile the run is re-read and
the marking retried, so a concurrent transition is never overwritten blindly.
"""

from __future__ import annotations

from typing import Any, Literal

from slipstream.management_api.scheduler import release_slot_action, schedule_soon, start_waiting_run
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.dag_runs import DagRunNotFound, DagRuns
from slipstream.store.errors import Conflict
from slipstream.store.table import TransactionCancelled, update_action
from slipstream.store.table import values as _values
from slipstream.store.task_instances import TERMINAL_STATES

MarkedState = Literal["queued", "success", "failed"]
RUNNING_STATES = frozenset({"running", "deferred", "up_for_reschedule"})
TRANSACTION_LIMIT = 100
ATTEMPTS = 5


def mark_run(dag_id: str, run_id: str, state: MarkedState) -> Item:
    """Mark the run and its task instances; returns the run as it is now."""
    runs = DagRuns()
    for _attempt in range(ATTEMPTS):
        run, tis = runs.with_task_instances(dag_id, run_id)
        if run is None:
            raise DagRunNotFound(dag_id, run_id)
        now = fmt_time(utcnow())
        actions = [_run_action(run, state, now), release_slot_action(dag_id, run_id)]
        actions += [
            _ti_action(ti, target, now) for ti in tis if (target := _ti_target(state, ti.get("state")))
        ]
        try:
            for start in range(0, len(actions), TRANSACTION_LIMIT):
                runs.table.transact(actions[start : start + TRANSACTION_LIMIT])
        except TransactionCancelled:
            continue
        if state == "queued":
            schedule_soon(dag_id, run_id)
        else:
            start_waiting_run(dag_id)
        return runs.get(dag_id, run_id)
    raise Conflict(f"Dag run '{run_id}' kept changing while it was being marked; retry")


def _ti_target(state: MarkedState, current: str | None) -> str | None:
    if state == "success":
        return None if current == "success" else "success"
    if state == "failed":
        if current in RUNNING_STATES:
            return "failed"
        return None if current in TERMINAL_STATES else "skipped"
    return None


def _run_action(run: Item, state: MarkedState, now: str) -> dict[str, Any]:
    update = (
        "SET #state = :target, queued_at = :now REMOVE end_date"
        if state == "queued"
        else "SET #state = :target, end_date = :now"
    )
    return update_action(
        run["PK"],
        run["SK"],
        update,
        "#state = :was",
        names={"#state": "state"},
        values=_values(target=state, now=now, was=run["state"]),
    )


def _ti_action(ti: Item, target: str, now: str) -> dict[str, Any]:
    """Into a terminal state, so out of the scheduler's waiting-state index (GSI2)."""
    vals: dict[str, Any] = {"id": ti["id"], "target": target, "now": now}
    if ti.get("state") is None:
        condition = "#id = :id AND attribute_not_exists(#state)"
    else:
        condition = "#id = :id AND #state = :was"
        vals["was"] = ti["state"]
    return update_action(
        ti["PK"],
        ti["SK"],
        "SET #state = :target, start_date = if_not_exists(start_date, :now),"
        " end_date = if_not_exists(end_date, :now) REMOVE GSI2PK, GSI2SK",
        condition,
        names={"#state": "state", "#id": "id"},
        values=_values(**vals),
    )
