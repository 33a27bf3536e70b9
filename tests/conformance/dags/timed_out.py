"""A run that outlives its dagrun_timeout: it fails, and its unfinished tasks are skipped."""

from __future__ import annotations

import time
from datetime import timedelta

from airflow.sdk import dag, task


@dag(schedule=None, dagrun_timeout=timedelta(seconds=10), tags=["conformance"])
def timed_out():
    @task
    def stall() -> None:
        time.sleep(120)  # skipped while running: its next heartbeat gets a 409 and it is stopped

    @task
    def never() -> None:
        pass

    stall() >> never()


timed_out()
