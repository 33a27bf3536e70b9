"""Exceptions task code raises (or sees) to steer the outcome of a try."""

from __future__ import annotations

from typing import Any


class AirflowException(Exception):
    """Base class of the SDK's exceptions; any other exception fails the try the same way."""


class AirflowSkipException(AirflowException):
    """Raise to end the try as `skipped`."""


class AirflowFailException(AirflowException):
    """Raise to end the try as `failed` without using up a retry."""


class AirflowTaskTerminated(AirflowException):
    """Raised inside the task when the Supervisor stops it (execution_timeout, worker shutdown, ...)."""


class AirflowRuntimeError(AirflowException):
    """The Supervisor could not serve a request (`error` is the protocol's `ErrorType` value)."""

    def __init__(self, error: str, detail: dict[str, Any] | None) -> None:
        super().__init__(f"{error}: {detail}")
        self.error = error
        self.detail = detail
