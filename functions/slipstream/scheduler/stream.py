"""Turning DynamoDB stream records into scheduling work.

A record matters when a task instance changed state, a run was created or changed state, an
asset event was recorded, or a DAG was unpaused. Each yields a job; within one batch the same job
runs once (every record of a batch was written before the batch was delivered, so one evaluation
after the first covers the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slipstream.services import asset_triggers
from slipstream.services.scheduling import FAST_PATH, schedule_run
from slipstream.services.trigger_rules import TERMINAL
from slipstream.store import keys
from slipstream.store.dag_runs import DagRuns

EVENT_PREFIX = "EVENT#"
UNBLOCKING_STATES = frozenset(TERMINAL | {"up_for_retry", "up_for_reschedule", "restarting"})


@dataclass(frozen=True)
class Job:
    kind: str
    args: tuple[str, ...]

    def run(self) -> None:
        RUNNERS[self.kind](*self.args)


def _schedule_queued_runs(dag_id: str) -> None:
    for run_id in DagRuns().waiting(dag_id):
        schedule_run(dag_id, run_id)


RUNNERS: dict[str, Callable[..., Any]] = {
    "schedule_run": schedule_run,
    "asset_event": asset_triggers.on_asset_event,
    "dag_unpaused": _schedule_queued_runs,
}


def _may_unblock(event_name: str, sk: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether a run or TI record can let the scheduler move something.

    A new run waiting to start, or a run cleared back to queued, needs scheduling; a TI matters only when it
    settles (terminal), waits to try again, or is cleared, and not when the fast path wrote that
    transition together with its consequences (a fresh `fast_path` token). Records of TIs being
    queued or started, and of runs starting or ending, are the scheduler's own moves: evaluating
    the run again for them would cost a read and find nothing to do.
    """
    if sk == keys.RUN_SK:
        if event_name == "INSERT":  # a run created running had its first tasks queued with it
            return new.get("state") != "running"
        return event_name == "MODIFY" and new.get("state") == "queued" and old.get("state") != "queued"
    if not sk.startswith(keys.TI_PREFIX) or event_name != "MODIFY":
        return False  # a TI is inserted with its run, whose own record covers it
    if new.get(FAST_PATH) is not None and new.get(FAST_PATH) != old.get(FAST_PATH):
        return False  # written in one transaction with everything it made ready
    state = new.get("state")
    return state != old.get("state") and (state is None or state in UNBLOCKING_STATES)


def job_for(
    event_name: str, keys_: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]
) -> Job | None:
    """The work a stream record calls for, or None. Images are plain dicts (deserialised)."""
    pk, sk = str(keys_.get("PK", "")), str(keys_.get("SK", ""))
    if pk.startswith("RUN#") and _may_unblock(event_name, sk, old, new):
        return Job("schedule_run", (str(new["dag_id"]), str(new["run_id"])))
    if pk.startswith("ASSET#") and sk.startswith(EVENT_PREFIX) and event_name == "INSERT":
        return Job("asset_event", (pk, sk))
    unpaused = bool(old.get("is_paused")) and not new.get("is_paused")
    if pk.startswith("DAG#") and sk == keys.DAG_SK and event_name == "MODIFY" and unpaused:
        return Job("dag_unpaused", (str(new["dag_id"]),))
    return None
