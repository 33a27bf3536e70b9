"""Retries: the first try fails, the retry (a second later) succeeds."""

from datetime import timedelta

from slipstream.sdk import dag, task


@dag(schedule=None, tags=["example"])
def retry_once():
    @task(retries=2, retry_delay=timedelta(seconds=1))
    def flaky(ti=None):
        if ti.try_number == 1:
            raise RuntimeError("the first try always fails")
        print(f"succeeded on try {ti.try_number}")

    flaky()


retry_once()
