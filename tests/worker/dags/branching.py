"""Branching, short-circuiting, bash and operators."""

from datetime import timedelta

from slipstream.sdk import DAG, BashOperator, EmptyOperator, ShortCircuitOperator, chain, task

with DAG("branching", schedule=timedelta(hours=6), fail_fast=True, max_active_runs=2) as branching:

    @task.branch
    def choose(conf=None):
        return "left" if conf.get("go") == "left" else "right"

    left = EmptyOperator(task_id="left")
    right = EmptyOperator(task_id="right")
    join = EmptyOperator(task_id="join", trigger_rule="none_failed_min_one_success")
    choose() >> [left, right] >> join

    gate = ShortCircuitOperator(task_id="gate", python_callable=lambda conf: conf.get("open", False))
    after_gate = EmptyOperator(task_id="after_gate")
    far = EmptyOperator(task_id="far", trigger_rule="all_done")
    chain(gate, after_gate, far)

    echo = BashOperator(task_id="echo", bash_command="echo first; echo 'ds={{ ds }} run={{ run_id }}'")

    @task.bash(execution_timeout=timedelta(minutes=5))
    def count(n):
        return "for i in $(seq {{ params.n }}); do echo $i; done; echo " + str(n)

    count(3)

    skip_me = BashOperator(task_id="skip_me", bash_command="exit 99")
