from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from slipstream.local.seed import execution_token, queue_ti, register_dag, start_run


@pytest.fixture
def client(aws: None) -> Iterator[TestClient]:
    from slipstream.api.app import create_app

    with TestClient(create_app(), base_url="http://testserver/execution/") as test_client:
        yield test_client


class QueuedTI:
    """A queued TI and the tokens a worker would hold for it."""

    def __init__(self, ti: dict[str, Any], workload: dict[str, Any]) -> None:
        self.item = ti
        self.id = ti["id"]
        self.workload = workload
        self.workload_token = workload["token"]
        self.token = execution_token(ti)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def workload_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.workload_token}"}


@pytest.fixture
def queued(aws: None) -> QueuedTI:
    register_dag(
        tasks=[
            {"task_id": "hello", "upstream": [], "retries": 2},
            {"task_id": "after", "upstream": ["hello"]},
        ]
    )
    run = start_run()
    return QueuedTI(*queue_ti("example", run["run_id"], "hello"))


RUN_BODY = {
    "state": "running",
    "hostname": "worker-1",
    "unixname": "slip",
    "pid": 1234,
    "start_date": "2026-07-01T12:00:00Z",
}


def start(client: TestClient, ti: QueuedTI, **overrides: Any) -> Any:
    return client.patch(
        f"task-instances/{ti.id}/run", json={**RUN_BODY, **overrides}, headers=ti.workload_headers
    )
