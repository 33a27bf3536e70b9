"""Error answers: the Execution API's mapping of store errors (reused as is), plus what only the
management API raises: 409 for a write that lost a race or is refused while tasks run, and 422s
for input that is well-formed but names something the DAG does not have."""

from __future__ import annotations

from typing import Any, NoReturn

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from slipstream.execution_api import errors as execution_errors
from slipstream.store.errors import Conflict


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return execution_errors.detail(409, "conflict", str(exc))


def install(app: FastAPI) -> None:
    execution_errors.install(app)
    app.add_exception_handler(Conflict, _conflict)


def invalid(loc: tuple[str | int, ...], message: str, value: Any) -> NoReturn:
    """A 422 in FastAPI's own shape, so that clients read every input error the same way."""
    raise RequestValidationError([{"type": "value_error", "loc": loc, "msg": message, "input": value}])


def require_same(field: str, in_body: str | None, in_path: str) -> None:
    """Airflow's rule for PATCH bodies that repeat the resource's id: it must be the path's."""
    if in_body is not None and in_body != in_path:
        raise HTTPException(
            status_code=400, detail=f"The {field} in the request body does not match the URL parameter"
        )
