"""The Lambda entry point, invoked with both API Gateway event formats."""

from __future__ import annotations

from typing import Any

import pytest

from slipstream.local.events import LocalContext, http_api_v2, response_json, rest_api_v1
from tests.api.conftest import RUN_BODY, QueuedTI


def _header(response: dict[str, Any], name: str) -> str | None:
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    return headers.get(name) or (multi.get(name) or [None])[0]


@pytest.mark.parametrize("make_event", [http_api_v2, rest_api_v1], ids=["http-api-2.0", "rest-api-1.0"])
def test_run_through_the_lambda_handler(make_event: Any, queued: QueuedTI) -> None:
    from slipstream.handlers.api import handler

    run_id = queued.item["run_id"]
    assert "+" in run_id and ":" in run_id
    response = handler(
        make_event(
            "PATCH",
            f"/execution/task-instances/{queued.id}/run",
            body=RUN_BODY,
            headers={"Authorization": f"Bearer {queued.workload_token}"},
        ),
        LocalContext(),
    )
    assert response["statusCode"] == 200, response
    body = response_json(response)
    assert body["dag_run"]["run_id"] == run_id
    assert _header(response, "refreshed-api-token")

    xcom_path = f"/execution/xcoms/example/{run_id}/hello/return_value"
    set_response = handler(
        make_event("POST", xcom_path, body={"answer": 42}, headers=queued.headers), LocalContext()
    )
    assert set_response["statusCode"] == 201, set_response
    got = handler(make_event("GET", xcom_path, headers=queued.headers), LocalContext())
    assert response_json(got) == {"key": "return_value", "value": {"answer": 42}}


@pytest.mark.parametrize("make_event", [http_api_v2, rest_api_v1], ids=["http-api-2.0", "rest-api-1.0"])
def test_errors_are_exact_json(make_event: Any, queued: QueuedTI) -> None:
    from slipstream.handlers.api import handler

    response = handler(
        make_event(
            "PUT",
            f"/execution/task-instances/{queued.id}/heartbeat",
            body={"hostname": "h", "pid": 1},
            headers={**queued.headers, "correlation-id": "abc-123"},
        ),
        LocalContext(),
    )
    assert response["statusCode"] == 409
    assert _header(response, "content-type") == "application/json"
    assert _header(response, "correlation-id") == "abc-123"
    assert response_json(response)["detail"]["reason"] == "running_elsewhere"


def test_health_needs_no_token(aws: None) -> None:
    from slipstream.handlers.api import handler

    response = handler(http_api_v2("GET", "/execution/health"), LocalContext())
    assert response["statusCode"] == 200
    assert response_json(response) == {"status": "healthy"}
    assert _header(response, "airflow-api-version") == "2026-06-30"
