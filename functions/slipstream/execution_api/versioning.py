"""Cadwyn version routing without Cadwyn's per-request costs.

Cadwyn wraps every versioned endpoint so that it can migrate requests and responses between
versions. The wrapper runs even when there is nothing to migrate: it re-solves the endpoint's
dependencies against the head schema (validating the body a second time) and round-trips every
response body through `json.loads`/`json.dumps` (Cadwyn's own TODO, issue 51, says "only do this if
there are migrations"). Measured here that is about 2.5 ms per warm request, ten times the rest of
FastAPI's work, and it also re-encodes raw JSON responses.

`SlipstreamVersionBundle` keeps Cadwyn's routing, header handling, defaults and per-version
OpenAPI, and skips the wrapper for routes whose version has no changes to apply: today every
route, since 2026-06-30 is the only version. Once a `VersionChange` exists, every route gets
Cadwyn's wrapper back.

`VersionPicking` does what Cadwyn's `VersionPickingMiddleware` does (read the version header,
apply the default, echo the matched version) as plain ASGI instead of a `BaseHTTPMiddleware`,
whose task group and memory streams cost about 0.5 ms per request.
"""

from __future__ import annotations

import functools
from typing import Any

from cadwyn import VersionBundle
from cadwyn._internal.context_vars import DEFAULT_API_VERSION_VAR
from cadwyn.middleware import VersionPickingMiddleware
from cadwyn.structure.versions._background import _add_keyword_only_parameter
from cadwyn.structure.versions._common import _CADWYN_REQUEST_PARAM_NAME, _CADWYN_RESPONSE_PARAM_NAME
from fastapi import BackgroundTasks
from fastapi import Request as FastapiRequest
from fastapi import Response as FastapiResponse
from starlette.types import Message, Receive, Scope, Send


class SlipstreamVersionBundle(VersionBundle):
    def _versioned(self, *args: Any, **kwargs: Any) -> Any:
        if self._all_changes:
            return super()._versioned(*args, **kwargs)
        request_name = kwargs["request_param_name"]
        response_name = kwargs["response_param_name"]
        hidden_tasks_name = kwargs["hidden_background_tasks_param_name"]
        hidden = {
            name
            for name in (request_name, response_name, hidden_tasks_name)
            if name in (_CADWYN_REQUEST_PARAM_NAME, _CADWYN_RESPONSE_PARAM_NAME, hidden_tasks_name) and name
        }

        def wrapper(endpoint: Any) -> Any:
            @functools.wraps(endpoint)
            async def passthrough(**call_kwargs: Any) -> Any:
                for name in hidden:
                    call_kwargs.pop(name, None)
                return await endpoint(**call_kwargs)

            if request_name == _CADWYN_REQUEST_PARAM_NAME:
                _add_keyword_only_parameter(passthrough, _CADWYN_REQUEST_PARAM_NAME, FastapiRequest)
            if response_name == _CADWYN_RESPONSE_PARAM_NAME:
                _add_keyword_only_parameter(passthrough, _CADWYN_RESPONSE_PARAM_NAME, FastapiResponse)
            if hidden_tasks_name is not None:
                _add_keyword_only_parameter(passthrough, hidden_tasks_name, BackgroundTasks)
            return passthrough

        return wrapper


class VersionPicking(VersionPickingMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = FastapiRequest(scope, receive)
        api_version = self._api_version_manager.get(request)
        if api_version is None:
            default = self.api_version_default_value
            api_version = default if isinstance(default, str | None) else await default(request)
            DEFAULT_API_VERSION_VAR.set(api_version)
        self.api_version_var.set(api_version)
        if api_version is None:
            await self.app(scope, receive, send)
            return
        header = self.api_version_parameter_name.lower().encode()

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                matched = scope.get("cadwyn.api_version", api_version)
                message["headers"] = [*message.get("headers", []), (header, str(matched).encode())]
            await send(message)

        await self.app(scope, receive, send_with_version)
