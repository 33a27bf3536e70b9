"""fail_fast: one failed task stops the run, so the slow task does not run to its end."""

import time

from slipstream.sdk import dag, task


@dag(schedule=None, fail_fast=True, tags=["example", "demo:expect=failed"])
def fail_fast():
    @task
    def breaks():
        raise ValueError("this task fails, and so does the run")

    @task
    def slow():
        time.sleep(30)

    @task
    def never_runs():
        print("unreachable")

    breaks()
    slow() >> never_runs()


fail_fast()
