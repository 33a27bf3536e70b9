"""Domain errors raised by the store. `slipstream.execution_api.errors` maps them to HTTP bodies."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    """A looked-up item does not exist; `message` is the contract's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TaskInstanceNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Task Instance not found")


class TaskInstanceMoved(StoreError):
    """The TI id was retried or cleared away: it lives on only as a history try (HTTP 410)."""


class InvalidTransition(StoreError):
    """A state change the TI's current state does not allow (HTTP 409 `invalid_state`)."""

    def __init__(self, message: str, previous_state: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.previous_state = previous_state


class RunningElsewhere(StoreError):
    def __init__(self, hostname: str | None, pid: int | None) -> None:
        super().__init__("TI is already running elsewhere")
        self.hostname = hostname
        self.pid = pid


class NotRunning(StoreError):
    def __init__(self, current_state: str | None) -> None:
        super().__init__("TI is no longer in the running state and task should terminate")
        self.current_state = current_state


class AlreadyExists(StoreError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(StoreError):
    """A concurrent writer won a race the caller may retry (HTTP 409/503 depending on route)."""


class Retryable(StoreError):
    """DynamoDB throttled or was unavailable; nothing was written. Safe to retry (HTTP 503)."""


class Rejected(StoreError):
    """DynamoDB refused a value (a key too long, an item too large): the caller's input (HTTP 422)."""
