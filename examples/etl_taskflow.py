"""TaskFlow ETL: return values travel to downstream arguments as XComs.

`load` updates the `daily_orders` asset, which schedules `orders_report` (asset_report.py).
"""

from datetime import UTC, datetime

from slipstream.sdk import Asset, dag, task

daily_orders = Asset("daily_orders", "s3://example-lake/orders/daily")


@dag(schedule=None, start_date=datetime(2026, 1, 1, tzinfo=UTC), tags=["example"])
def etl_taskflow():
    @task
    def extract():
        orders = [{"id": 1, "amount": 120}, {"id": 2, "amount": 80}, {"id": 3, "amount": 45}]
        print(f"extracted {len(orders)} orders")
        return orders

    @task(multiple_outputs=True)
    def transform(orders):
        total = sum(order["amount"] for order in orders)
        print(f"total={total}")
        return {"count": len(orders), "total": total}

    @task(outlets=[daily_orders])
    def load(count, total):
        print(f"loaded count={count} total={total}")
        return f"{count} orders, {total} in total"

    summary = transform(extract())
    load(summary["count"], summary["total"])


etl_taskflow()
