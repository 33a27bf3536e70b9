"""TaskFlow XCom passing: return values travel between tasks, and a dict is split by multiple_outputs."""

from __future__ import annotations

from airflow.sdk import dag, task


@dag(schedule=None, tags=["conformance"])
def taskflow_xcom():
    @task
    def extract() -> list[int]:
        return [1, 2, 3]

    @task(multiple_outputs=True)
    def transform(rows: list[int]) -> dict[str, int]:
        return {"total": sum(rows), "count": len(rows)}

    @task
    def load(total: int, count: int) -> None:
        print(f"loaded {count} rows, total {total}")

    summary = transform(extract())
    load(summary["total"], summary["count"])


taskflow_xcom()
