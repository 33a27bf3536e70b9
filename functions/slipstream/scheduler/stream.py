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
from slipstream.services.scheduling import schedule_run
from slipstream.store import keys
from slipstream.store.dag_runs import DagRuns

EVENT_PREFIX = "EVENT#"


@dataclass(frozen=True)
class Job:
    kind: str
    args: tuple[str, ...]

    def run(self) -> None:
        RUNNERS[self.kind](*self.args)


def _schedule_queued_runs(dag_id: str) -> None:
    for run in DagRuns().list_for_dag(dag_id, newest_first=False):
        if run.get("state") == "queued":
            schedule_run(dag_id, run["run_id"])


RUNNERS: dict[str, Callable[..., Any]] = {
    "schedule_run": schedule_run,
    "asset_event": asset_triggers.on_asset_event,
    "dag_unpaused": _schedule_queued_runs,
}


def job_for(
    event_name: str, keys_: Mapping[str, Any], old: Mapping[str, Any], new: Mapping[str, Any]
) -> Job | None:
    """The work a stream record calls for, or None. Images are plain dicts (deserialised)."""
    pk, sk = str(keys_.get("PK", "")), str(keys_.get("SK", ""))
    image = new or old
    if pk.startswith("RUN#") and (sk == keys.RUN_SK or sk.startswith(keys.TI_PREFIX)):
        if event_name == "REMOVE" or (event_name == "MODIFY" and old.get("state") == new.get("state")):
            return None
        return Job("schedule_run", (str(image["dag_id"]), str(image["run_id"])))
    if pk.startswith("ASSET#") and sk.startswith(EVENT_PREFIX) and event_name == "INSERT":
        return Job("asset_event", (pk, sk))
    unpaused = bool(old.get("is_paused")) and not new.get("is_paused")
    if pk.startswith("DAG#") and sk == keys.DAG_SK and event_name == "MODIFY" and unpaused:
        return Job("dag_unpaused", (str(new["dag_id"]),))
    return None
