"""API Gateway events as Lambda receives them (HTTP API payload 2.0 and REST API 1.0).

The local stack's API Gateway stand-in builds these from real HTTP requests; tests and the
benchmark use them to call the Lambda handler exactly as AWS does.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class LocalContext:
    """What Lambda passes as `context`: the attributes Powertools and Mangum read."""

    function_name: str = "slipstream-api"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:slipstream-api"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def http_api_v2(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None, query: str = ""
) -> dict[str, Any]:
    raw = json.dumps(body) if body is not None else None
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {
            "host": "abc.execute-api.us-east-1.amazonaws.com",
            **{k.lower(): v for k, v in (headers or {}).items()},
            **({"content-type": "application/json"} if raw is not None else {}),
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.execute-api.us-east-1.amazonaws.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "10.0.0.1",
                "userAgent": "test",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "01/Jul/2026:12:00:00 +0000",
            "timeEpoch": 1782907200000,
        },
        "body": raw,
        "isBase64Encoded": False,
    }


def rest_api_v1(
    method: str, path: str, *, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    raw = json.dumps(body) if body is not None else None
    all_headers = {
        "Host": "abc.execute-api.us-east-1.amazonaws.com",
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
            "accountId": "123456789012",
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
