"""Turning DynamoDB stream records into scheduling work.

A record matters when a task instance changed state, a run was created or changed state, an
asset event was recorded, or a DAG was unpaused, gave back a max_active_runs slot or was
registered with another max_active_runs. Each yields
a job; within one batch the same job runs once (every record of a batch was written before the
batch was delivered, so one evaluation after the first covers the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slipstream.services import asset_triggers
from slipstream.services.scheduling import FAST_PATH, schedule_run, start_in_turn, start_waiting_runs
from slipstream.services.trigger_rules import TERMINAL
from slipstream.store import keys

EVENT_PREFIX = "EVENT#"
UNBLOCKING_STATES = frozenset(TERMINAL | {"up_for_retry", "up_for_reschedule", "restarting"})


@dataclass(frozen=True)
class Job:
    kind: str
    args: tuple[str, ...]

    def run(self) -> None:
        RUNNERS[self.kind](*self.args)


RUNNERS: dict[str, Callable[..., Any]] = {
    "schedule_run": schedule_run,
    "asset_event": asset_triggers.on_asset_event,
    "start_waiting_runs": start_waiting_runs,
    "start_in_turn": start_in_turn,
}


def _may_unblock(event_name: str, sk: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a TI record can let the scheduler move something in its run.

    A TI matters only when it settles (terminal), waits to try again, or is cleared, and not
    when the fast path wrote that transition together with its consequences (a fresh
    `fast_path` token). Records of TIs being queued or started are the scheduler's own moves:
    evaluating the run again for them would cost a read and find nothing to do.
    """
    if not sk.startswith(keys.TI_PREFIX) or event_name != "MODIFY":
        return False  # a TI is inserted with its run, whose own record covers it
    if new.get(FAST_PATH) is not None and new.get(FAST_PATH) != old.get(FAST_PATH):
        return False  # written in one transaction with everything it made ready
    state = new.get("state")
    return state != old.get("state") and (state is None or state in UNBLOCKING_STATES)


def _waits(event_name: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a run record is of a run that now waits to start: created queued (no free slot, or
    a paused DAG) or cleared back to queued. A run created running had its first tasks queued
    with it, and a run starting or ending is the scheduler's own move."""
    if event_name == "INSERT":
        return new.get("state") != "running"
    return event_name == "MODIFY" and new.get("state") == "queued" and old.get("state") != "queued"


def job_for(
    event_name: str, keys_: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]
) -> Job | None:
    """The work a stream record calls for, or None. Images are plain dicts (deserialised).

    A waiting run is started in its turn (`start_in_turn`), so that a run whose record comes
    late in a batch cannot take the slot of an older one.
    """
    pk, sk = str(keys_.get("PK", "")), str(keys_.get("SK", ""))
    if pk.startswith("RUN#") and sk == keys.RUN_SK and _waits(event_name, old, new):
        return Job("start_in_turn", (str(new["dag_id"]), str(new["run_id"])))
    if pk.startswith("RUN#") and _may_unblock(event_name, sk, old, new):
        return Job("schedule_run", (str(new["dag_id"]), str(new["run_id"])))
    if pk.startswith("ASSET#") and sk.startswith(EVENT_PREFIX) and event_name == "INSERT":
        return Job("asset_event", (pk, sk))
    if pk.startswith("DAG#") and sk == keys.DAG_SK and event_name == "MODIFY" and _may_start_runs(old, new):
        return Job("start_waiting_runs", (str(new["dag_id"]),))
    return None


def _may_start_runs(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """The DAG was unpaused, gave back one of its max_active_runs slots (a run ended or was
    deleted), or was registered with another max_active_runs (a start that read the old one was
    refused): a run waiting to start may start now."""
    unpaused = bool(old.get("is_paused")) and not new.get("is_paused")
    freed = len(new.get("active_runs") or ()) < len(old.get("active_runs") or ())
    relimited = new.get("max_active_runs") != old.get("max_active_runs")
    return unpaused or ((freed or relimited) and not new.get("is_paused"))
