"""TaskFlow: return values flow to downstream arguments through XComs."""

from datetime import UTC, datetime, timedelta

from slipstream.sdk import Asset, dag, task

orders = Asset("orders", "s3://lake/orders")


@dag(
    schedule="@daily",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    tags=["example"],
    params={"factor": 2},
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
)
def taskflow():
    @task
    def extract():
        return {"a": 1, "b": 2}

    @task(multiple_outputs=True)
    def split(data):
        return {"keys": sorted(data), "total": sum(data.values())}

    @task(retries=0, outlets=[orders])
    def load(keys, total, params=None):
        return {"keys": keys, "scaled": total * params["factor"]}

    parts = split(extract())
    load(parts["keys"], total=parts["total"])


taskflow()
