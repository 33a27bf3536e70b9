"""Cadwyn version routing without Cadwyn's per-request migration cost.

Cadwyn wraps every versioned endpoint so that it can migrate requests and responses between
versions. The wrapper runs even when there is nothing to migrate: it re-solves the endpoint's
dependencies against the head schema (validating the body a second time) and round-trips every
response body through `json.loads`/`json.dumps` (Cadwyn's own TODO, issue 51, says "only do this if
there are migrations"). Measured here that is about 2.5 ms per warm request, ten times the rest of
FastAPI's work, and it also re-encodes raw JSON responses.

`SlipstreamVersionBundle` keeps Cadwyn's routing, header handling, defaults and per-version
OpenAPI, and skips the wrapper for routes whose version has no changes to apply: today every
route, since 2026-06-30 is the only version. Once an older version with `VersionChange`s is added,
routes of that version get Cadwyn's wrapper again and the newest version stays unwrapped.
"""

from __future__ import annotations

import functools
from typing import Any

from cadwyn import VersionBundle
from cadwyn.structure.versions._background import _add_keyword_only_parameter
from cadwyn.structure.versions._common import _CADWYN_REQUEST_PARAM_NAME, _CADWYN_RESPONSE_PARAM_NAME
from fastapi import BackgroundTasks
from fastapi import Request as FastapiRequest
from fastapi import Response as FastapiResponse


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
