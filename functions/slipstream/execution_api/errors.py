"""The one place that turns store errors into the contract's HTTP answers.

Bodies follow Airflow's envelope: `{"detail": {"reason": ..., "message": ..., ...}}`, sent with
`content-type: application/json` exactly (the Task SDK reads `detail` only then).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from slipstream.core.logging import logger
from slipstream.store.errors import (
    AlreadyExists,
    InvalidTransition,
    NotFound,
    NotRunning,
    Rejected,
    Retryable,
    RunningElsewhere,
    TaskInstanceMoved,
)

MOVED_MESSAGE = "Task Instance not found, it may have been moved to the Task Instance History table"


def detail(status: int, reason: str, message: str, **extra: object) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"detail": {"reason": reason, "message": message, **extra}}
    )


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotFound)
    return detail(404, "not_found", exc.message)


async def _moved(_: Request, exc: Exception) -> JSONResponse:
    return detail(410, "not_found", MOVED_MESSAGE)


async def _invalid_transition(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidTransition)
    return detail(409, "invalid_state", exc.message, previous_state=exc.previous_state)


async def _running_elsewhere(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RunningElsewhere)
    return detail(
        409,
        "running_elsewhere",
        "TI is already running elsewhere",
        current_hostname=exc.hostname,
        current_pid=exc.pid,
    )


async def _not_running(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotRunning)
    return detail(
        409,
        "not_running",
        "TI is no longer in the running state and task should terminate",
        current_state=exc.current_state,
    )


async def _already_exists(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AlreadyExists)
    return detail(409, "already_exists", exc.message)


async def _retryable(_: Request, exc: Exception) -> JSONResponse:
    logger.warning("storage busy, asking the client to retry", extra={"cause": str(exc)})
    response = detail(503, "retryable", "Storage is busy; nothing was written. Retry the request.")
    response.headers["Retry-After"] = "1"
    return response


async def _rejected(_: Request, exc: Exception) -> JSONResponse:
    return detail(422, "Value rejected by database", str(exc))


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    """FastAPI's own 422, except that an input JSON cannot hold (NaN, Infinity) is echoed as
    text: FastAPI's handler would fail to render it and answer 500."""
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(status_code=422, content={"detail": _printable(jsonable_encoder(exc.errors()))})


def _printable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    body: dict[str, object] = {"message": "Internal server error"}
    if correlation := request.headers.get("correlation-id"):
        body["correlation-id"] = correlation
    return JSONResponse(status_code=500, content=body)


ROUTING_NOT_FOUND = {
    "description": "No route matches the path (a segment it cannot hold), or no such resource"
}


def document_not_found(app: FastAPI) -> None:
    """Any path can miss every route (a line break in a segment does): say so on every operation."""
    for route in app.routes:
        if isinstance(route, APIRoute) and route.param_convertors:
            route.responses.setdefault(404, ROUTING_NOT_FOUND)


def install(app: FastAPI) -> None:
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(TaskInstanceMoved, _moved)
    app.add_exception_handler(InvalidTransition, _invalid_transition)
    app.add_exception_handler(RunningElsewhere, _running_elsewhere)
    app.add_exception_handler(NotRunning, _not_running)
    app.add_exception_handler(AlreadyExists, _already_exists)
    app.add_exception_handler(Retryable, _retryable)
    app.add_exception_handler(Rejected, _rejected)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(Exception, _unhandled)
