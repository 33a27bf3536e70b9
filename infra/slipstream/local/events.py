"""Lambda events as AWS delivers them: API Gateway (HTTP API 2.0, REST API 1.0), EventBridge schedules.

The local stack's API Gateway stand-in and timer build these; tests and the benchmark use them to
call handlers exactly as AWS does.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACCOUNT_ID = "123456789012"
API_HOST = "abc.execute-api.us-east-1.amazonaws.com"


@dataclass
class LocalContext:
    """What Lambda passes as `context`: the attributes Powertools and Mangum read."""

    function_name: str = "slipstream-api"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:slipstream-api"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000

    @classmethod
    def invocation(cls, function_name: str, region: str = "us-east-1") -> LocalContext:
        """The context of one invocation: a fresh request id, as Lambda gives every invoke."""
        return cls(
            function_name=function_name,
            invoked_function_arn=f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}",
            aws_request_id=str(uuid.uuid4()),
        )


@dataclass
class HttpRequest:
    """An HTTP request as API Gateway received it: the path still percent-encoded, the body raw."""

    method: str
    raw_path: str
    raw_query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "10.0.0.1"


def http_api_v2_event(
    request: HttpRequest, *, route_key: str = "$default", path_parameters: dict[str, str] | None = None
) -> dict[str, Any]:
    """The HTTP API payload 2.0 event of `request`.

    As API Gateway does: header names lower-cased and repeated headers joined with commas, cookies
    moved to `cookies`, and a body that is not UTF-8 text sent base64-encoded.
    """
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        else:
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    try:
        body: str | None = request.body.decode() if request.body else None
        is_base64 = False
    except UnicodeDecodeError:
        body, is_base64 = base64.b64encode(request.body).decode(), True
    now = datetime.now(UTC)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "abc",
            "domainName": headers.get("host", API_HOST),
            "domainPrefix": headers.get("host", API_HOST).split(".")[0],
            "http": {
                "method": request.method,
                "path": request.raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex[:16],
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = cookies
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body is not None:
        event["body"] = body
    return event


def http_api_v2(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None, query: str = ""
) -> dict[str, Any]:
    """An HTTP API 2.0 event with a JSON body (tests and the benchmark)."""
    all_headers = {"host": API_HOST, "user-agent": "test", **(headers or {})}
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        all_headers["content-type"] = "application/json"
    return http_api_v2_event(HttpRequest(method, path, query, list(all_headers.items()), raw))


def rest_api_v1(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    raw = json.dumps(body) if body is not None else None
    all_headers = {
        "Host": API_HOST,
        **(headers or {}),
        **({"Content-Type": "application/json"} if raw is not None else {}),
    }
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": path,
            "stage": "prod",
            "requestId": "id",
            "identity": {"sourceIp": "10.0.0.1", "userAgent": "test"},
            "accountId": ACCOUNT_ID,
            "apiId": "abc",
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def response_json(response: dict[str, Any]) -> Any:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    return json.loads(body) if body else None


def scheduled_event(rule_name: str, region: str = "us-east-1") -> dict[str, Any]:
    """The event an EventBridge schedule rule (SAM's `Schedule` event) delivers to its function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule_name}"],
        "detail": {},
    }
