"""The running task's line to its Supervisor.

The Task Runner installs its comms channel here before it runs user code; the SDK's `Variable`,
`Connection`, XCom and skip calls send their requests through it. Outside a Task Runner (DAG
parsing, unit tests of DAG files) there is no channel and those calls fail loudly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic import BaseModel


class Channel(Protocol):
    def request(self, message: BaseModel) -> Any: ...


_channel: Channel | None = None


def install(channel: Channel | None) -> None:
    global _channel
    _channel = channel


def request(message: BaseModel) -> Any:
    if _channel is None:
        raise RuntimeError(f"{type(message).__name__} needs a running task: it goes through the worker")
    return _channel.request(message)
