"""What an API write or a timer sweep owes the scheduler (slipstream.services.scheduling).

The table's stream schedules every change anyway; calling `schedule_run` right away is the fast
path that saves the stream's latency, so its failures are logged, never returned. The scheduler
keeps each DAG's running runs in `active_runs` on the DAG item (its max_active_runs slots): a run
the API ends or deletes gives its slot back in the same transaction, and the runs waiting for a
slot are started.
"""

from __future__ import annotations

from slipstream.core.logging import logger
from slipstream.services.scheduling import release_slot_action, schedule_run, start_waiting_runs

__all__ = ["release_slot_action", "schedule_soon", "start_waiting_runs_soon"]


def schedule_soon(dag_id: str, run_id: str) -> None:
    try:
        schedule_run(dag_id, run_id)
    except Exception:
        logger.exception("fast-path scheduling failed; the stream will retry", extra={"dag_id": dag_id})


def start_waiting_runs_soon(dag_id: str) -> None:
    """A slot was freed (or the DAG unpaused): start the waiting runs it lets start."""
    try:
        start_waiting_runs(dag_id)
    except Exception:
        logger.exception("starting a waiting run failed; the timer will retry", extra={"dag_id": dag_id})
