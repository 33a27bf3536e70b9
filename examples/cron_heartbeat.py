"""Cron-scheduled: a run every minute, the latest due one first (no catchup)."""

from datetime import UTC, datetime

from slipstream.sdk import dag, task


@dag(
    schedule="* * * * *",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    tags=["example", "demo:trigger=schedule"],
)
def cron_heartbeat():
    @task
    def beat(logical_date=None):
        print(f"heartbeat for {logical_date}")

    beat()


cron_heartbeat()
