"""The API Gateway stand-in: HTTP requests in, HTTP API payload 2.0 events to the Lambda handler.

The routes are the API function's `HttpApi` events in template.yaml; any other path gets API
Gateway's own 404, and a handler that raises gets its 500, so clients see what they would see on
AWS. Each request is one invocation on a bounded thread pool, standing in for Lambda's concurrent
execution environments. Mangum drives the app on the calling thread's event loop, so every pool
thread gets a loop of its own.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import uvicorn
from starlette.types import Receive, Scope, Send

from slipstream.local.events import HttpRequest, LocalContext, http_api_v2_event
from slipstream.local.template import function_events

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """An HTTP API route such as `ANY /execution/{proxy+}`."""

    method: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters if `method` and the decoded `path` take this route, else None."""
        if self.method not in ("ANY", method):
            return None
        found = re.fullmatch(self._pattern, path)
        return None if found is None else found.groupdict()

    @property
    def _pattern(self) -> str:
        parts = re.split(r"(\{[^}]+\})", self.path)
        return "".join(
            (f"(?P<{part[1:-2]}>.+)" if part.endswith("+}") else f"(?P<{part[1:-1]}>[^/]+)")
            if part.startswith("{")
            else re.escape(part)
            for part in parts
        )


def template_routes(template: Mapping[str, Any], handler: str) -> list[Route]:
    return [
        Route(str(event.get("Method", "ANY")).upper(), str(event["Path"]))
        for event in function_events(template, handler, "HttpApi")
    ]


def _own_event_loop() -> None:
    asyncio.set_event_loop(asyncio.new_event_loop())


class Gateway:
    """The ASGI app: one request, one invocation of `handler`."""

    def __init__(
        self, handler: Handler, routes: list[Route], function_name: str, concurrency: int = 8
    ) -> None:
        self._handler = handler
        self._routes = routes
        self._function_name = function_name
        self._pool = ThreadPoolExecutor(
            concurrency, thread_name_prefix="lambda-api", initializer=_own_event_loop
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = await _read_request(scope, receive)
        path = unquote(request.raw_path)
        for route in self._routes:
            parameters = route.match(request.method, path)
            if parameters is not None:
                event = http_api_v2_event(request, route_key=route.key, path_parameters=parameters)
                response = await asyncio.get_running_loop().run_in_executor(self._pool, self._invoke, event)
                break
        else:
            response = _gateway_error(404, "Not Found")
        await _send_response(response, send)

    def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._handler(event, LocalContext.invocation(self._function_name))
        except Exception:
            log.exception("%s failed on %s", self._function_name, event["routeKey"])
            return _gateway_error(500, "Internal Server Error")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _gateway_error(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"message": message}),
    }


async def _read_request(scope: Scope, receive: Receive) -> HttpRequest:
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    client_ip, _ = scope.get("client") or ("127.0.0.1", 0)
    _, port = scope["server"]
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]]
    # What API Gateway adds in front of every integration.
    headers += [
        ("x-forwarded-for", client_ip),
        ("x-forwarded-port", str(port)),
        ("x-forwarded-proto", "http"),
    ]
    return HttpRequest(
        method=scope["method"],
        raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
        raw_query=scope["query_string"].decode("latin-1"),
        headers=headers,
        body=bytes(body),
        source_ip=client_ip,
    )


async def _send_response(response: dict[str, Any], send: Send) -> None:
    body = response.get("body") or ""
    raw = base64.b64decode(body) if response.get("isBase64Encoded") else str(body).encode()
    headers = [
        (name.encode("latin-1"), str(value).encode("latin-1"))
        for name, value in (response.get("headers") or {}).items()
        if name.lower() != "content-length"
    ]
    headers.append((b"content-length", str(len(raw)).encode()))
    headers += [(b"set-cookie", cookie.encode("latin-1")) for cookie in response.get("cookies") or []]
    await send({"type": "http.response.start", "status": int(response["statusCode"]), "headers": headers})
    await send({"type": "http.response.body", "body": raw})


class GatewayServer:
    """The stand-in on 127.0.0.1:`port`, served by uvicorn in a thread of this process."""

    def __init__(self, gateway: Gateway, port: int) -> None:
        self._gateway = gateway
        config = uvicorn.Config(
            gateway, host="127.0.0.1", port=port, lifespan="off", access_log=False, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api-gateway", daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the API Gateway stand-in did not start on {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._gateway.close()
