"""The API Gateway stand-in: real HTTP in, HTTP API 2.0 events out, Lambda responses back."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from mangum import Mangum
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slipstream.local.gateway import Gateway, GatewayServer, template_routes
from slipstream.local.moto import free_port
from slipstream.local.stack import API_HANDLER
from slipstream.local.template import load_template

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], httpx.Client]]:
    servers: list[GatewayServer] = []

    def start(handler: Handler) -> httpx.Client:
        gateway = Gateway(handler, template_routes(load_template(), API_HANDLER), "slipstream-api")
        server = GatewayServer(gateway, free_port())
        server.start()
        servers.append(server)
        return httpx.Client(base_url=server.url)

    yield start
    for server in servers:
        server.stop()


def _echo(request: Request) -> Response:
    return JSONResponse(
        {"path": request.url.path, "query": request.query_params.multi_items(), "method": request.method}
    )


async def _teapot(request: Request) -> Response:
    return Response(
        await request.body(), status_code=418, headers={"x-brew": "earl grey"}, media_type="image/png"
    )


MANGUM = Mangum(
    Starlette(routes=[Route("/execution/teapot", _teapot, methods=["POST"]), Route("/{rest:path}", _echo)]),
    lifespan="off",
)


def test_event_shape(serve: Callable[[Handler], httpx.Client]) -> None:
    events: list[dict[str, Any]] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        assert context.function_name == "slipstream-api" and context.aws_request_id
        return {"statusCode": 204}

    client = serve(record)
    assert (
        client.post(
            "/execution/task-instances/x/run?a=1", json={"k": "v"}, headers={"X-Custom": "1"}
        ).status_code
        == 204
    )
    [event] = events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /execution/{proxy+}"
    assert event["rawPath"] == "/execution/task-instances/x/run"
    assert event["rawQueryString"] == "a=1"
    assert event["pathParameters"] == {"proxy": "task-instances/x/run"}
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["stage"] == "$default"
    assert event["headers"]["x-custom"] == "1"
    assert event["headers"]["x-forwarded-proto"] == "http"
    assert json.loads(event["body"]) == {"k": "v"} and event["isBase64Encoded"] is False


def test_run_ids_with_plus_and_colon_survive(serve: Callable[[Handler], httpx.Client]) -> None:
    client = serve(MANGUM)
    run_id = "manual__2026-07-01T12:00:00+00:00"
    for sent in (run_id, "manual__2026-07-01T12%3A00%3A00%2B00%3A00"):
        response = client.get(f"/api/v2/dags/d/dagRuns/{sent}")
        assert response.json()["path"] == f"/api/v2/dags/d/dagRuns/{run_id}"


def test_query_strings_pass_unchanged(serve: Callable[[Handler], httpx.Client]) -> None:
    client = serve(MANGUM)
    response = client.get("/api/v2/dags?tags=a&tags=b&q=x%20y%2Bz")
    assert response.json()["query"] == [["tags", "a"], ["tags", "b"], ["q", "x y+z"]]


def test_status_headers_and_binary_bodies_pass_through(serve: Callable[[Handler], httpx.Client]) -> None:
    client = serve(MANGUM)
    payload = bytes(range(256))
    response = client.post("/execution/teapot", content=payload)
    assert response.status_code == 418
    assert response.headers["x-brew"] == "earl grey"
    assert response.content == payload


def test_base64_bodies_in_events() -> None:
    from slipstream.local.events import HttpRequest, http_api_v2_event

    event = http_api_v2_event(HttpRequest("POST", "/execution/x", body=b"\xff\x00"))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_cookies_both_ways(serve: Callable[[Handler], httpx.Client]) -> None:
    events: list[dict[str, Any]] = []

    def cookies(event: dict[str, Any], context: Any) -> dict[str, Any]:
        events.append(event)
        return {"statusCode": 200, "cookies": ["a=1; Path=/", "b=2"], "body": ""}

    response = serve(cookies).get("/api/v2/dags", headers={"Cookie": "x=1; y=2"})
    assert events[0]["cookies"] == ["x=1", "y=2"] and "cookie" not in events[0]["headers"]
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]


def test_unrouted_paths_and_handler_errors_get_api_gateway_answers(
    serve: Callable[[Handler], httpx.Client],
) -> None:
    def crash(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    client = serve(crash)
    assert client.get("/elsewhere").status_code == 404
    assert client.get("/elsewhere").json() == {"message": "Not Found"}
    response = client.get("/execution/health")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal Server Error"}
