"""What each task-instance transition does beyond the write itself.

`/state` maps a payload to the stored fields. A transition that can unblock something goes
through the scheduler's fast path first: one transaction with what it makes ready
(`scheduling.finish_and_schedule`). Otherwise it is one conditional write (a transaction with a
success's asset events), after which fail_fast stops the rest of the run and the run is
evaluated again, best effort (the stream handler is the safety net).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.core.logging import logger
from slipstream.core.settings import get_settings
from slipstream.execution_api.datamodels.task_instances import (
    TIStateUpdate,
)
from slipstream.services import assets
from slipstream.store import keys
from slipstream.store.codec import fmt_time, shifted, utcnow
from slipstream.store.table import TransactionCancelled, update_action
from slipstream.store.table import values as _values
from slipstream.store.task_instances import RETRY_DELAY_LIMIT, RETRY_REASON_LIMIT, TaskInstances

FAIL_FAST_SPARED = frozenset({"success", "failed"})
SCHEDULING_STATES = frozenset({"success", "failed", "skipped", "removed", "upstream_failed", "up_for_retry"})


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def finish(tis: TaskInstances, key: TIKey, ti_id: str, payload: TIStateUpdate) -> bool:
    """Apply a `/state` payload. Returns False when it was an idempotent replay (HTTP 200).

    Payloads are told apart by their `state`, not their class: Cadwyn hands routes per-version
    copies of the models.
    """
    now = utcnow()
    if payload.state == "up_for_reschedule":
        row = {
            "PK": keys.run_pk(key.dag_id, key.run_id),
            "SK": keys.reschedule_prefix(ti_id) + fmt_time(now),
            "ti_id": ti_id,
            "start_date": fmt_time(now),
            "end_date": fmt_time(payload.end_date),
            "reschedule_date": fmt_time(payload.reschedule_date),
        }
        fields = {
            "end_date": fmt_time(payload.end_date),
            "reschedule_date": fmt_time(payload.reschedule_date),
        }
        return tis.reschedule(key, ti_id, fields, row)

    state, fields = _fields(payload, now)
    events: list[dict[str, Any]] = []
    if payload.state == "success" and (payload.task_outlets or payload.outlet_events):
        # The events are written with the transition: a retry after a fault neither loses nor
        # repeats them.
        events = assets.outlet_event_actions(key, payload.task_outlets, payload.outlet_events, now)
    if state in SCHEDULING_STATES and get_settings().scheduler_fast_path:
        from slipstream.services.scheduling import finish_and_schedule

        done = finish_and_schedule(tis, key, ti_id, state, fields, events)
        if done is not None:
            return done
    if events:
        changed = tis.finish_with(key, ti_id, state, fields, events)
    else:
        ti = tis.finish(key, ti_id, state, fields)
        changed = ti is not None
        if state == "failed":
            # On a replay too: the first attempt may have failed between its write and this.
            ti = ti or tis.get(key)
            if ti is not None and ti.get("fail_fast"):
                stop_remaining(tis, key)
    if changed and state in SCHEDULING_STATES:
        _fast_path(key)
    return changed


def _fast_path(key: TIKey) -> None:
    """Queue what this transition made ready in the same request, as Airflow 2's mini scheduler
    did. Best effort: the stream handler evaluates the run again whatever happens here."""
    if not get_settings().scheduler_fast_path:
        return
    from slipstream.services.scheduling import schedule_run

    try:
        schedule_run(key.dag_id, key.run_id)
    except Exception:
        logger.exception("fast-path scheduling failed; the stream handler will retry")


def _deadline(now: datetime, timeout: timedelta | None) -> str | None:
    """A deferral's or an input wait's end, stored; none without a timeout."""
    return fmt_time(shifted(now, timeout)) if timeout else None


def _fields(payload: TIStateUpdate, now: datetime) -> tuple[str, dict[str, Any]]:
    """The stored state and fields for a payload; None removes the attribute."""
    rendered = getattr(payload, "rendered_map_index", None)
    if payload.state in ("success", "failed", "skipped", "removed", "upstream_failed"):
        return payload.state, {
            "end_date": fmt_time(payload.end_date),
            "rendered_map_index": rendered,
            "next_method": None,
            "next_kwargs": None,
        }
    if payload.state == "up_for_retry":
        reason = payload.retry_reason[:RETRY_REASON_LIMIT] if payload.retry_reason else None
        delay = payload.retry_delay_seconds
        return "up_for_retry", {
            "end_date": fmt_time(payload.end_date),
            "rendered_map_index": rendered,
            "retry_delay_override": Decimal(str(min(delay, RETRY_DELAY_LIMIT)))
            if delay is not None
            else None,
            "retry_reason": reason,
            "next_method": None,
            "next_kwargs": None,
        }
    if payload.state == "deferred":
        kwargs = payload.trigger_kwargs
        return "deferred", {
            "trigger_classpath": payload.classpath,
            "trigger_kwargs": kwargs if isinstance(kwargs, str) else _compact(kwargs),
            "trigger_timeout": _deadline(now, payload.trigger_timeout),
            "trigger_queue": payload.queue,
            "next_method": payload.next_method,
            "next_kwargs": _compact(payload.next_kwargs),
            "rendered_map_index": rendered,
        }
    if payload.state == "awaiting_input":
        return "awaiting_input", {
            "next_method": payload.next_method,
            "next_kwargs": _compact(payload.next_kwargs),
            "trigger_timeout": _deadline(now, payload.timeout),
            "rendered_map_index": rendered,
        }
    # scheduled, queued or restarting (TITargetStatePayload): Airflow has no handler for these
    # targets on a running TI and fails it; so do we.
    return "failed", {"end_date": fmt_time(now), "next_method": None, "next_kwargs": None}


def stop_remaining(tis: TaskInstances, key: TIKey) -> None:
    """fail_fast: every other unfinished TI of the run is failed (if running) or skipped.

    One transaction per batch of TIs, each update conditioned on the state that was read; if any
    of them moved meanwhile the batch is re-read and retried, so no TI is overwritten blindly.
    """
    for _attempt in range(5):
        now = fmt_time(utcnow())
        actions = []
        for ti in tis.list_run(key.dag_id, key.run_id):
            state = ti.get("state")
            if ti["task_id"] == key.task_id and ti.get("map_index", -1) == key.map_index:
                continue
            if state in FAIL_FAST_SPARED or (json.loads(ti.get("task", "{}")).get("is_teardown")):
                continue
            target = "failed" if state == "running" else "skipped"
            condition = "#state = :was" if state is not None else "attribute_not_exists(#state)"
            vals: dict[str, Any] = {"target": target, "now": now}
            if state is not None:
                vals["was"] = state
            actions.append(
                update_action(
                    ti["PK"],
                    ti["SK"],
                    "SET #state = :target, end_date = :now REMOVE GSI2PK, GSI2SK",
                    condition,
                    names={"#state": "state"},
                    values=_values(**vals),
                )
            )
        try:
            for start in range(0, len(actions), 100):
                tis.table.transact(actions[start : start + 100])
        except TransactionCancelled:
            continue
        return
