"""What a management write owes the scheduler (slipstream.services.scheduling).

The table's stream schedules every change anyway; calling `schedule_run` right away is the fast
path that saves the stream's latency, so its failures are logged, never returned. The scheduler
keeps each DAG's running runs in `active_runs` on the DAG item (its max_active_runs slots): a run
the API ends or deletes gives its slot back in the same transaction, and the oldest run waiting
for a slot is started.
"""

from __future__ import annotations

from typing import Any

from slipstream.core.logging import logger
from slipstream.store import keys
from slipstream.store.dag_runs import DagRuns
from slipstream.store.table import update_action
from slipstream.store.table import values as _values


def schedule_soon(dag_id: str, run_id: str) -> None:
    # Imported here: the scheduler may be absent from a build, and the API must not care.
    try:
        from slipstream.services.scheduling import schedule_run
    except ImportError:
        return
    try:
        schedule_run(dag_id, run_id)
    except Exception:
        logger.exception("fast-path scheduling failed; the stream will retry", extra={"dag_id": dag_id})


def start_waiting_run(dag_id: str) -> None:
    """A slot was freed (or the DAG unpaused): start the oldest queued run, if any."""
    waiting = [r for r in DagRuns().list_for_dag(dag_id, newest_first=False) if r.get("state") == "queued"]
    if waiting:
        schedule_soon(dag_id, waiting[0]["run_id"])


def release_slot_action(dag_id: str, run_id: str) -> dict[str, Any]:
    """Take the run out of its DAG's active runs (a no-op if it holds no slot)."""
    return update_action(
        keys.dag_pk(dag_id),
        keys.DAG_SK,
        "DELETE active_runs :run",
        "attribute_exists(PK)",
        values=_values(run={run_id}),
    )
