"""Version routing on `Airflow-API-Version`, as Cadwyn answers it (the spec's section 3)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from slipstream.execution_api.app import create_app as create_execution_app
from slipstream.execution_api.routing import DeferredRoute
from tests.api.conftest import QueuedTI


@pytest.mark.parametrize(
    ("sent", "status", "echoed"),
    [
        (None, 204, "2026-06-30"),
        ("2026-06-30", 204, "2026-06-30"),
        ("2026-07-15", 204, "2026-06-30"),  # a later date waterfalls to the newest version
        ("2025-01-01", 404, None),  # before the oldest version: no routes
    ],
)
def test_version_header(
    client: TestClient, queued: QueuedTI, sent: str | None, status: int, echoed: str | None
) -> None:
    from tests.api.conftest import start

    assert start(client, queued).status_code == 200
    headers = {**queued.headers, **({"Airflow-API-Version": sent} if sent else {})}
    response = client.put(
        f"task-instances/{queued.id}/heartbeat", json={"hostname": "worker-1", "pid": 1234}, headers=headers
    )
    assert response.status_code == status
    if echoed:
        assert response.headers["airflow-api-version"] == echoed


def test_malformed_version_is_422_naming_the_header(client: TestClient, queued: QueuedTI) -> None:
    response = client.get("variables/x", headers={**queued.headers, "Airflow-API-Version": "abc"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Airflow-API-Version"]


def test_openapi_per_version(client: TestClient) -> None:
    document = client.get("openapi.json", params={"version": "2026-06-30"}).json()
    assert "/task-instances/{task_instance_id}/run" in document["paths"]
    assert client.get("openapi.json", params={"version": "2020-01-01"}).status_code == 404


def _unbuilt(app: Any) -> list[str]:
    return [r.path for r in app.routes if isinstance(r, DeferredRoute) and "_pending" in vars(r)]


def test_a_route_is_built_by_its_first_request_only(aws: None, queued: QueuedTI) -> None:
    """A cold start builds the route it serves, not the other 44 (about 2 ms each)."""
    from tests.api.conftest import start

    app = create_execution_app()
    unbuilt = _unbuilt(app)
    assert len(unbuilt) == len([r for r in app.routes if isinstance(r, DeferredRoute)]) > 40
    with TestClient(app, base_url="http://testserver/") as client:
        assert start(client, queued).status_code == 200
    assert len(_unbuilt(app)) == len(unbuilt) - 1
    assert set(unbuilt) - set(_unbuilt(app)) == {"/task-instances/{task_instance_id}/run"}
