"""A task that fails its first try and succeeds on its retry."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, get_current_context, task


@dag(schedule=None, tags=["conformance"])
def retried_task():
    @task(retries=2, retry_delay=timedelta(seconds=1))
    def flaky() -> int:
        try_number = get_current_context()["ti"].try_number
        if try_number == 1:
            raise RuntimeError("first try fails on purpose")
        return try_number

    flaky()


retried_task()
