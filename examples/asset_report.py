"""Asset-triggered: runs whenever `etl_taskflow` updates the `daily_orders` asset."""

from datetime import UTC, datetime

from slipstream.sdk import Asset, dag, task


@dag(
    schedule=[Asset("daily_orders", "s3://example-lake/orders/daily")],
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    tags=["example", "demo:trigger=asset"],
)
def orders_report():
    @task
    def report(dag_run=None):
        print(f"report for {dag_run.run_id} ({dag_run.run_type})")

    report()


orders_report()
