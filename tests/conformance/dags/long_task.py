"""A task that outlives its execution token: heartbeats must keep refreshing it."""

from __future__ import annotations

import time

from airflow.sdk import Variable, dag, task


@dag(schedule=None, tags=["conformance"])
def long_task():
    @task
    def outlive() -> None:
        time.sleep(25)  # the suite's execution tokens live 10 s (+10 s leeway)
        print(Variable.get("conformance_greeting"))

    outlive()


long_task()
