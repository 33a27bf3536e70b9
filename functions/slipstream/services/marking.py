"""Marking a dag run `success`, `failed` or `queued`, with Airflow's effect on its task instances.

- success: every task instance not already successful becomes `success`;
- failed: running ones (running, deferred, up_for_reschedule) fail, unfinished ones are skipped;
- queued: the run waits to be started again; task instances are left as they are;
- timed out (the DAG's dagrun_timeout passed since the run started): the run fails and every
  unfinished task instance, running ones included, is skipped, as Airflow's scheduler does.

A worker whose task instance was marked sees it at its next heartbeat (409) and stops the task.
Each write is conditioned on the state (and TI id) that was read, and the run moves in the same
transaction as its first 99 task instances; if anything moved meanwhile the run is re-read and
the marking retried, so a concurrent transition is never overwritten blindly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from slipstream.core.logging import logger
from slipstream.services.follow_up import release_slot_action, schedule_soon, start_waiting_runs_soon
from slipstream.store.codec import Item, fmt_time, parse_time, shifted, utcnow
from slipstream.store.dag_runs import DagRunNotFound, DagRuns, waiting_values
from slipstream.store.errors import Conflict
from slipstream.store.table import TransactionCancelled, update_action
from slipstream.store.table import values as _values
from slipstream.store.task_instances import TERMINAL_STATES

MarkedState = Literal["queued", "success", "failed"]
Marking = Literal["queued", "success", "failed", "timed_out"]
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
        if _apply(runs, run, tis, state):
            return runs.get(dag_id, run_id)
    raise Conflict(f"Dag run '{run_id}' kept changing while it was being marked; retry")


def time_out(dag_id: str, run_id: str, now: datetime) -> bool:
    """Fail the run if its dagrun_timeout has passed since it started, and skip its unfinished
    task instances; False if it is not running or its time has not come (it was cleared and
    started again since the deadline was indexed)."""
    runs = DagRuns()
    for _attempt in range(ATTEMPTS):
        run, tis = runs.with_task_instances(dag_id, run_id)
        if run is None or run.get("state") != "running" or run.get("dagrun_timeout") is None:
            return False
        started = parse_time(run.get("start_date"))
        if started is None or shifted(started, timedelta(seconds=float(run["dagrun_timeout"]))) > now:
            return False
        if _apply(runs, run, tis, "timed_out"):
            logger.warning("dag run timed out", extra={"dag_id": dag_id, "run_id": run_id})
            return True
    return False


def _apply(runs: DagRuns, run: Item, tis: list[Item], marking: Marking) -> bool:
    """The run and its TIs move together, conditioned on what was read; False if anything moved."""
    dag_id, run_id = run["dag_id"], run["run_id"]
    now = fmt_time(utcnow())
    actions = [_run_action(run, marking, now), release_slot_action(dag_id, run_id)]
    actions += [_ti_action(ti, target, now) for ti in tis if (target := _ti_target(marking, ti.get("state")))]
    try:
        for start in range(0, len(actions), TRANSACTION_LIMIT):
            runs.table.transact(actions[start : start + TRANSACTION_LIMIT])
    except TransactionCancelled:
        return False
    if marking == "queued":
        schedule_soon(dag_id, run_id)
    else:
        start_waiting_runs_soon(dag_id)
    return True


def _ti_target(marking: Marking, current: str | None) -> str | None:
    if marking == "success":
        return None if current == "success" else "success"
    if marking == "failed" and current in RUNNING_STATES:
        return "failed"
    if marking in ("failed", "timed_out"):
        return None if current in TERMINAL_STATES else "skipped"
    return None


def _run_action(run: Item, marking: Marking, now: str) -> dict[str, Any]:
    """The run's move, out of the timer's deadline index (a queued run waits to be started)."""
    vals: dict[str, Any] = {"target": "failed" if marking == "timed_out" else marking, "now": now}
    if marking == "queued":  # as Airflow: it starts afresh, so its dagrun_timeout counts anew
        update = (
            "SET #state = :target, queued_at = :now, GSI2PK = :waiting, GSI2SK = :position"
            " REMOVE end_date, start_date"
        )
        vals.update(waiting_values(run))
    else:
        update = "SET #state = :target, end_date = :now REMOVE GSI2PK, GSI2SK"
    condition = "#state = :was"
    vals["was"] = run["state"]
    if marking == "timed_out":
        condition += " AND start_date = :started"
        vals["started"] = run["start_date"]
    return update_action(
        run["PK"], run["SK"], update, condition, names={"#state": "state"}, values=_values(**vals)
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
