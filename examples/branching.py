"""Branching: one path runs, the other is skipped, and the join still runs."""

from slipstream.sdk import DAG, EmptyOperator, task

with DAG("branching", schedule=None, params={"path": "fast"}, tags=["example"]):

    @task.branch
    def choose(params=None):
        print(f"taking the {params['path']} path")
        return params["path"]

    fast = EmptyOperator(task_id="fast")
    slow = EmptyOperator(task_id="slow")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    choose() >> [fast, slow] >> join
