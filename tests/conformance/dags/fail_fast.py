"""fail_fast: a failing task fails the one still running and skips the ones not started."""

from __future__ import annotations

import time

from airflow.sdk import dag, task


@dag(schedule=None, fail_fast=True, tags=["conformance"])
def fail_fast():
    @task
    def slow() -> None:
        time.sleep(120)

    @task
    def boom() -> None:
        time.sleep(4)  # slow is running by now
        raise ValueError("boom")

    @task
    def after_boom() -> None:
        pass

    slow()
    boom() >> after_boom()


fail_fast()
