"""The timer function's sweeps: everything that happens because time passed, not because a row
changed. Each sweep reads an index, re-reads what it acts on, and acts with conditional writes,
so overlapping or repeated invocations are harmless.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slipstream.auth.tokens import TIKey
from slipstream.core.logging import logger
from slipstream.core.settings import get_settings
from slipstream.services import dispatch, lifecycle, marking, queueing, runs, timetables
from slipstream.services.scheduling import schedule_run
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, parse_time, utcnow
from slipstream.store.dag_runs import RUN_DEADLINES, RUNS_QUEUED, DagRuns
from slipstream.store.dags import Dags
from slipstream.store.errors import AlreadyExists, NotFound
from slipstream.store.table import ConditionFailed, Table
from slipstream.store.table import values as _values
from slipstream.store.task_instances import TaskInstances


@dataclass
class SweepReport:
    runs_created: list[str] = field(default_factory=list)
    runs_evaluated: int = 0
    zombies: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)


def run_key(pk: str) -> tuple[str, str]:
    """(dag_id, run_id) of a `RUN#<dag>#<run>` partition key (dag ids never contain `#`)."""
    dag_id, _, run_id = pk[len("RUN#") :].partition("#")
    return dag_id, run_id


def sweep(now: datetime | None = None) -> SweepReport:
    now = now or utcnow()
    report = SweepReport()
    report.runs_created = create_scheduled_runs(now)
    report.zombies = fail_zombies(now)
    report.resent = resend_lost(now)
    report.timed_out = time_out_runs(now)
    waiting = {run_key(k["PK"]) for k in _indexed(RUNS_QUEUED)}
    waiting |= {run_key(k["PK"]) for k in _indexed(keys.status_pk("up_for_retry"))}
    waiting |= {run_key(k["PK"]) for k in _indexed(keys.status_pk("up_for_reschedule"))}
    for dag_id, run_id in sorted(waiting):
        schedule_run(dag_id, run_id, now=now)
    report.runs_evaluated = len(waiting)
    return report


def _indexed(partition: str, below: str | None = None) -> list[Item]:
    return Table().query(partition, index=keys.GSI2, below=below)


def create_scheduled_runs(now: datetime) -> list[str]:
    """One run per cron/interval tick; the run id is the tick, so a tick can never get two runs."""
    created = []
    dags = Dags()
    for dag in dags.list():
        document = json.loads(dag["document"])
        schedule = document.get("schedule")
        if dag.get("is_paused") or not timetables.is_time_schedule(schedule):
            continue
        start = timetables.start_date(document)
        last = parse_time(dag.get("last_tick"))
        ticks = timetables.due_ticks(
            schedule, start_date=start or now, last_tick=last, now=now, catchup=bool(document.get("catchup"))
        )
        for tick in ticks:
            try:
                run = runs.trigger(
                    dag["dag_id"],
                    run_id=f"scheduled__{tick.isoformat()}",
                    run_type="scheduled",
                    logical_date=tick,
                    run_after=tick,
                )
            except (AlreadyExists, NotFound):
                continue
            created.append(run["run_id"])
        if ticks:
            _advance(dags.table, dag["dag_id"], ticks[-1])
    return created


def _advance(table: Table, dag_id: str, tick: datetime) -> None:
    stamp = fmt_time(tick)
    try:
        table.update(
            keys.dag_pk(dag_id),
            keys.DAG_SK,
            "SET last_tick = :tick",
            condition="attribute_exists(PK) AND (attribute_not_exists(last_tick) OR last_tick < :tick)",
            values=_values(tick=stamp),
        )
    except ConditionFailed:
        return


def time_out_runs(now: datetime) -> list[str]:
    """Running runs whose dagrun_timeout has passed since they started (GSI2, by deadline)."""
    timed_out = []
    for entry in _indexed(RUN_DEADLINES, below=fmt_time(now)):
        dag_id, run_id = run_key(entry["PK"])
        if marking.time_out(dag_id, run_id, now):
            timed_out.append(run_id)
    return timed_out


def fail_zombies(now: datetime) -> list[str]:
    """Running TIs whose last heartbeat is older than SLIPSTREAM_HEARTBEAT_TIMEOUT: up_for_retry
    if they may retry, else failed, with the reason recorded."""
    timeout = get_settings().heartbeat_timeout
    cutoff = fmt_time(now - timedelta(seconds=timeout))
    found = []
    tis = TaskInstances()
    for ti in _consistent(_indexed(keys.status_pk("running"), below=cutoff)):
        if ti.get("state") != "running" or str(ti.get("last_heartbeat_at", "")) >= cutoff:
            continue
        max_tries = int(ti.get("max_tries", 0))
        target = "up_for_retry" if max_tries != 0 and int(ti.get("try_number", 0)) <= max_tries else "failed"
        key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"], int(ti.get("map_index", -1)))
        reason = f"no heartbeat for more than {timeout} s (last {ti.get('last_heartbeat_at')})"
        done = tis.finish(key, ti["id"], target, {"end_date": fmt_time(now), "failure_reason": reason})
        if done is None:
            continue
        logger.warning("heartbeat timeout", extra={"ti_id": ti["id"], "state": target})
        found.append(ti["id"])
        if target == "failed" and done.get("fail_fast"):
            lifecycle.stop_remaining(tis, key)
        schedule_run(ti["dag_id"], ti["run_id"], now=now)
    return found


def resend_lost(now: datetime) -> list[str]:
    """Queued TIs whose message never led to a start (a send that failed after the write, a
    message gone to the dead-letter queue): send the workload again, once per resend period."""
    period = get_settings().queued_resend_seconds
    cutoff = fmt_time(now - timedelta(seconds=period))
    table = Table()
    resent = []
    for ti in _consistent(_indexed(keys.status_pk("queued"), below=cutoff)):
        # GSI2SK: when its last message became (or becomes) visible
        if ti.get("state") != "queued" or str(ti.get("GSI2SK", "")) >= cutoff:
            continue
        try:
            table.update(
                ti["PK"],
                ti["SK"],
                "SET queued_at = :now, GSI2SK = :now",
                condition="#id = :id AND #state = :queued AND GSI2SK = :seen",
                names={"#id": "id", "#state": "state"},
                values=_values(now=fmt_time(now), id=ti["id"], queued="queued", seen=ti["GSI2SK"]),
            )
        except ConditionFailed:
            continue
        dag_id, run_id = run_key(ti["PK"])
        run = DagRuns().find(dag_id, run_id)
        if run is None:
            continue
        dispatch.send_or_resend_soon(queueing.workload(ti, run, int(ti.get("try_number", 1))))
        resent.append(ti["id"])
    return resent


def _consistent(index_keys: Iterable[Item]) -> list[Item]:
    """Index entries are eventually consistent and keys-only: re-read the items themselves."""
    wanted = [(k["PK"], k["SK"]) for k in index_keys]
    return Table().batch_get(wanted) if wanted else []
