"""The scheduler's core: evaluate one dag run and move what is ready.

`schedule_run` is idempotent and safe to run concurrently: it reads the run and its TIs with one
strongly consistent Query, decides in memory (trigger rules, in topological order so that skips
and upstream failures propagate in one pass), and applies each decision as a conditional write on
the state it read. A TI whose state moved meanwhile is simply left to whoever moved it, so a
duplicated stream record, a retried batch or the fast path racing the stream handler can never
queue a task twice. Messages are sent after the write; a lost send is repaired by the timer's
queued-too-long sweep.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from uuid6 import uuid7

from slipstream.core.logging import logger
from slipstream.services import dispatch, queueing
from slipstream.services.trigger_rules import TERMINAL, UpstreamStates, decide
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, parse_time, utcnow
from slipstream.store.dag_runs import RUN_DEADLINES, DagRuns, wire_dag_run
from slipstream.store.table import (
    ConditionFailed,
    TransactionCancelled,
    put_action,
    update_action,
)
from slipstream.store.table import values as _values

DEFAULT_RETRY_DELAY = 300.0
DEFAULT_MAX_RETRY_DELAY = 24 * 3600.0
DEFAULT_MAX_ACTIVE_RUNS = 16
DEFAULT_MAX_ACTIVE_TASKS = 16
ACTIVE_TI_STATES = frozenset({"queued", "running", "restarting"})
FAILED_STATES = frozenset({"failed", "upstream_failed"})


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)
    settled: dict[str, str] = field(default_factory=dict)
    run_state: str | None = None


def task_of(ti: Item) -> dict[str, Any]:
    task: dict[str, Any] = json.loads(ti.get("task") or "{}")
    return task


def retry_delay(task: dict[str, Any], ti: Item) -> float:
    """Seconds between this try's end and the next try, as Airflow computes it (without jitter):
    the override a task sent with its retry, else retry_delay, doubled per try with
    retry_exponential_backoff, capped by max_retry_delay."""
    override = ti.get("retry_delay_override")
    if override is not None:
        return float(override)
    configured = task.get("retry_delay")
    delay = float(configured) if configured is not None else DEFAULT_RETRY_DELAY
    if task.get("retry_exponential_backoff"):
        delay *= 2 ** max(0, int(ti.get("try_number", 1)) - 1)
    cap = task.get("max_retry_delay")
    return min(delay, float(cap) if cap is not None else DEFAULT_MAX_RETRY_DELAY)


def _topological(tis: list[Item]) -> list[Item]:
    by_task = {ti["task_id"]: ti for ti in tis}
    ordered: list[Item] = []
    seen: set[str] = set()

    def visit(task_id: str, path: frozenset[str]) -> None:
        if task_id in seen or task_id in path or task_id not in by_task:
            return
        for upstream in task_of(by_task[task_id]).get("upstream", []):
            visit(upstream, path | {task_id})
        seen.add(task_id)
        ordered.append(by_task[task_id])

    for task_id in sorted(by_task):
        visit(task_id, frozenset())
    return ordered


def schedule_run(dag_id: str, run_id: str, *, now: datetime | None = None) -> Outcome:
    now = now or utcnow()
    runs = DagRuns()
    outcome = Outcome()
    run, tis = runs.with_task_instances(dag_id, run_id)
    if run is None:
        return outcome
    if run["state"] == "queued" and tis and not _start_run(runs, run):
        outcome.run_state = "queued"
        return outcome
    if run["state"] != "running":
        outcome.run_state = run["state"]
        return outcome
    states = {ti["task_id"]: ti.get("state") for ti in tis}
    limit = int(run.get("max_active_tasks") or DEFAULT_MAX_ACTIVE_TASKS)
    active = sum(1 for s in states.values() if s in ACTIVE_TI_STATES)
    for ti in _topological(tis):
        task = task_of(ti)
        state = states[ti["task_id"]]
        if state in (None, "scheduled", "restarting"):
            upstream = UpstreamStates.of(states.get(u) for u in task.get("upstream", []) if u in states)
            decision = (
                "run"
                if state == "restarting"
                else decide(task.get("trigger_rule") or "all_success", upstream)
            )
            if decision == "run" and active < limit and _queue(ti, run, delay=0):
                states[ti["task_id"]] = "queued"
                outcome.queued.append(ti["task_id"])
                active += 1
            elif decision in ("skipped", "upstream_failed") and _settle(ti, decision, now):
                states[ti["task_id"]] = decision
                outcome.settled[ti["task_id"]] = decision
        elif state in ("up_for_retry", "up_for_reschedule") and active < limit:
            due = _due(ti, task, state)
            wait = (due - now).total_seconds()
            if wait <= dispatch.MAX_DELAY_SECONDS:
                moved = _retry(ti, run, wait) if state == "up_for_retry" else _queue(ti, run, delay=wait)
                if moved:
                    states[ti["task_id"]] = "queued"
                    outcome.queued.append(ti["task_id"])
                    active += 1
    if tis and all(s in TERMINAL for s in states.values()):
        outcome.run_state = _finish_run(runs, run, tis, states)
    else:
        outcome.run_state = "running"
    return outcome


def _due(ti: Item, task: dict[str, Any], state: str) -> datetime:
    if state == "up_for_reschedule":
        return parse_time(ti.get("reschedule_date")) or utcnow()
    ended = parse_time(ti.get("end_date")) or utcnow()
    return ended + timedelta(seconds=retry_delay(task, ti))


def _queue(ti: Item, run: Item, *, delay: float) -> bool:
    workload = queueing.queue(ti, run)
    if workload is None:
        return False
    dispatch.send(workload, delay_seconds=int(max(0.0, delay)))
    return True


def _retry(ti: Item, run: Item, delay: float) -> bool:
    """Archive the finished try under its id, give the live TI a new id and queue the next try."""
    new_id = str(uuid7())
    now = fmt_time(utcnow())
    history = {k: v for k, v in ti.items() if k not in ("GSI2PK", "GSI2SK", "dag_run")}
    history["SK"] = keys.try_sk(ti["task_id"], int(ti.get("map_index", -1)), int(ti.get("try_number", 0)))
    snapshot = json.dumps(wire_dag_run(run), separators=(",", ":"))
    live = update_action(
        ti["PK"],
        ti["SK"],
        "SET #id = :new, #state = :queued, dag_run = :snapshot, queued_at = :now, GSI2PK = :status,"
        " GSI2SK = :now, try_number = try_number + :one"
        " REMOVE hostname, pid, unixname, start_date, end_date, retry_delay_override, retry_reason,"
        " last_heartbeat_at",
        "#id = :old AND #state = :retry",
        names={"#id": "id", "#state": "state"},
        values=_values(
            new=new_id,
            old=ti["id"],
            queued="queued",
            retry="up_for_retry",
            snapshot=snapshot,
            now=now,
            one=1,
            status=keys.status_pk("queued"),
        ),
    )
    try:
        DagRuns().table.transact([put_action(history, "attribute_not_exists(PK)"), live])
    except TransactionCancelled:
        return False
    moved = {**ti, "id": new_id}
    workload = queueing.workload(moved, run, int(ti.get("try_number", 0)) + 1)
    dispatch.send(workload, delay_seconds=int(max(0.0, delay)))
    return True


def _settle(ti: Item, state: str, now: datetime) -> bool:
    """None -> skipped / upstream_failed without running (conditional on the state read)."""
    stamp = fmt_time(now)
    condition = "attribute_not_exists(#state)" if ti.get("state") is None else "#state = :was"
    vals: dict[str, Any] = {"target": state, "now": stamp}
    if ti.get("state") is not None:
        vals["was"] = ti["state"]
    try:
        DagRuns().table.update(
            ti["PK"],
            ti["SK"],
            "SET #state = :target, start_date = :now, end_date = :now",
            condition=condition,
            names={"#state": "state"},
            values=_values(**vals),
        )
    except ConditionFailed:
        return False
    return True


def _start_run(runs: DagRuns, run: Item) -> bool:
    """queued -> running, if the DAG is not paused and has a free max_active_runs slot. The slot
    (a set of run ids on the DAG item) and the run's state move in one transaction."""
    limit = int(run.get("max_active_runs") or DEFAULT_MAX_ACTIVE_RUNS)
    slot = update_action(
        keys.dag_pk(run["dag_id"]),
        keys.DAG_SK,
        "ADD active_runs :run",
        "attribute_exists(PK) AND is_paused = :false AND (attribute_not_exists(active_runs)"
        " OR size(active_runs) < :limit OR contains(active_runs, :run_id))",
        values=_values(run={run["run_id"]}, false=False, limit=limit, run_id=run["run_id"]),
    )
    now = utcnow()
    vals: dict[str, Any] = {"running": "running", "queued": "queued", "now": fmt_time(now)}
    timeout = run.get("dagrun_timeout")
    if timeout is None:
        index = " REMOVE GSI2PK, GSI2SK"
    else:  # the timer's sweep finds it by its deadline
        index = ", GSI2PK = :deadlines, GSI2SK = :deadline"
        deadline = fmt_time(now + timedelta(seconds=float(timeout)))
        vals.update(deadlines=RUN_DEADLINES, deadline=f"{deadline}#{run['dag_id']}#{run['run_id']}")
    start = update_action(
        run["PK"],
        run["SK"],
        "SET #state = :running, start_date = :now" + index,
        "#state = :queued",
        names={"#state": "state"},
        values=_values(**vals),
    )
    try:
        runs.table.transact([slot, start])
    except TransactionCancelled:
        return False
    run.update(state="running", start_date=vals["now"])
    return True


def _finish_run(runs: DagRuns, run: Item, tis: list[Item], states: dict[str, str | None]) -> str:
    """success or failed, as Airflow decides it: failed if a leaf task failed (or, under fail_fast,
    any task did); the run's max_active_runs slot is released in the same transaction."""
    downstream = {u for ti in tis for u in task_of(ti).get("upstream", [])}
    leaves = [ti["task_id"] for ti in tis if ti["task_id"] not in downstream]
    failed = any(states[t] in FAILED_STATES for t in leaves) or (
        bool(run.get("fail_fast")) and any(s == "failed" for s in states.values())
    )
    final = "failed" if failed else "success"
    try:
        runs.table.transact(
            [
                update_action(
                    run["PK"],
                    run["SK"],
                    "SET #state = :final, end_date = :now REMOVE GSI2PK, GSI2SK",
                    "#state = :running",
                    names={"#state": "state"},
                    values=_values(final=final, running="running", now=fmt_time(utcnow())),
                ),
                release_slot_action(run["dag_id"], run["run_id"]),
            ]
        )
    except TransactionCancelled:
        return str(runs.get(run["dag_id"], run["run_id"])["state"])
    logger.info("dag run finished", extra={"dag_id": run["dag_id"], "run_id": run["run_id"], "state": final})
    start_next_queued_run(run["dag_id"])
    return final


def release_slot_action(dag_id: str, run_id: str) -> dict[str, Any]:
    """Take a run out of its DAG's max_active_runs slots (a no-op if it holds none)."""
    return update_action(
        keys.dag_pk(dag_id),
        keys.DAG_SK,
        "DELETE active_runs :run",
        "attribute_exists(PK)",
        values=_values(run={run_id}),
    )


def start_next_queued_run(dag_id: str) -> None:
    """A slot was freed (or the DAG unpaused): start the oldest run still waiting for one."""
    waiting = [r for r in DagRuns().list_for_dag(dag_id, newest_first=False) if r.get("state") == "queued"]
    if waiting:
        schedule_run(dag_id, waiting[0]["run_id"])
