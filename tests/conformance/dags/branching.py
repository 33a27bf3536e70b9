"""A branch: the path not taken is skipped, and a join with none_failed_min_one_success runs."""

from __future__ import annotations

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import dag, task


@dag(schedule=None, tags=["conformance"])
def branching():
    @task.branch
    def choose() -> str:
        return "left"

    left = EmptyOperator(task_id="left")
    right = EmptyOperator(task_id="right")
    beyond_right = EmptyOperator(task_id="beyond_right")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    choose() >> [left, right]
    right >> beyond_right
    [left, beyond_right] >> join


branching()
