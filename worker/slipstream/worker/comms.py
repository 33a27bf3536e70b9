"""The Supervisor <-> Task Runner protocol.

Processes and channels. The Supervisor starts one Task Runner per try (fork of the warm
Supervisor, or a fresh `python -m slipstream.worker.runner`), in its own process group, with four
AF_UNIX socket pairs:

* requests: the runner's fd 0, both directions, carries the frames described below;
* stdout / stderr: the runner's fd 1 and 2; every line the task prints becomes one task-log record
  (loggers `task.stdout` at INFO and `task.stderr` at ERROR), so print() cannot corrupt the
  requests channel however much it writes;
* logs: one more inherited fd (its number is in `SLIPSTREAM_RUNNER_LOG_FD` for a spawned runner),
  newline-delimited JSON records from the runner's `logging`, written unchanged to the task log.

Framing. Each frame is a 4-byte big-endian unsigned length N followed by N bytes of msgpack
(msgspec). A frame is an array of three:

* request, runner -> Supervisor: `[id, body, None]` (the third slot is Airflow's trace-context
  carrier, unused here);
* response, Supervisor -> runner: `[id, body, error]`, where exactly one of `body` (or nil for
  fire-and-forget requests) and `error` (an `ErrorResponse`) is meaningful.

Bodies are maps with a `type` discriminator (`messages.py` lists them). Aware datetimes travel as
msgpack Timestamp extensions, UUIDs as strings, enums as their values.

Who speaks when. The Supervisor pushes two frames unprompted, both with id 0: `PreloadDagFile`
(optional) as soon as it knows the try, then `StartupDetails` once `PATCH /run` has answered.
From then on the runner asks and the Supervisor answers: the runner numbers its requests 1, 2,
3, ... and sends the next one only after the answer to the previous one (the channel is
synchronous, so it needs no demultiplexing). A request the Supervisor cannot decode still gets an
`ErrorResponse` under its id, so the runner never hangs on a reply that will not come.

Why the indirection. The task code never sees the API token (the runner has no credentials at
all), and a worker keeps one API connection pool per try in the Supervisor instead of one per
library the task imports. The Supervisor is also the only party that can report a runner that
died without a word.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

import msgspec
from pydantic import BaseModel, ValidationError

from slipstream.sdk._exceptions import AirflowRuntimeError
from slipstream.worker.messages import (
    ErrorResponse,
    ErrorType,
    Pushed,
    ToRunner,
    ToSupervisor,
    pushed,
    to_runner,
    to_supervisor,
)

_HEADER = struct.Struct(">I")
MAX_FRAME = 2**32 - 1


class _Frame(msgspec.Struct, array_like=True):
    id: int
    body: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, PurePath):
        return str(obj)
    raise TypeError(f"cannot send {type(obj).__name__} over the comms channel")


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.msgpack.Decoder(_Frame)


def encode_frame(frame_id: int, body: BaseModel | None, error: ErrorResponse | None = None) -> bytes:
    """One length-prefixed frame, ready for `sendall`."""
    payload = _encoder.encode(
        _Frame(
            frame_id,
            None if body is None else body.model_dump(),
            None if error is None else error.model_dump(),
        )
    )
    if len(payload) > MAX_FRAME:
        raise ValueError(f"frame of {len(payload)} bytes exceeds the 4 GiB limit")
    return _HEADER.pack(len(payload)) + payload


class FrameBuffer:
    """Reassembles frames from arbitrary chunks of a byte stream (the Supervisor's non-blocking side)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[_Frame]:
        self._buf += data
        while len(self._buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buf)
            end = _HEADER.size + size
            if len(self._buf) < end:
                return
            raw = bytes(self._buf[_HEADER.size : end])
            del self._buf[:end]
            yield _decoder.decode(raw)


def decode_request(frame: _Frame) -> ToSupervisor | ErrorResponse:
    """The request in `frame`, or the `ErrorResponse` to answer it with if it is not one we know."""
    try:
        return to_supervisor.validate_python(frame.body)
    except ValidationError as exc:
        return ErrorResponse(
            error=ErrorType.API_SERVER_ERROR,
            detail={
                "status_code": 400,
                "message": "Unhandled request",
                "errors": exc.errors(include_url=False),
            },
        )


class RunnerChannel:
    """The runner's end of the requests channel: blocking, one request in flight at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._next_id = 1

    def _read_frame(self) -> _Frame:
        header = self._read_exactly(_HEADER.size)
        return _decoder.decode(self._read_exactly(_HEADER.unpack(header)[0]))

    def _read_exactly(self, size: int) -> bytes:
        buf = bytearray(size)
        view = memoryview(buf)
        got = 0
        while got < size:
            n = self._sock.recv_into(view[got:])
            if n == 0:
                raise EOFError("the Supervisor closed the requests channel")
            got += n
        return bytes(buf)

    def read_pushed(self) -> Pushed:
        """The next unprompted frame: `PreloadDagFile` or `StartupDetails`."""
        return pushed.validate_python(self._read_frame().body)

    def request(self, message: BaseModel) -> ToRunner | None:
        """Send `message` and wait for its answer; an `ErrorResponse` raises `AirflowRuntimeError`."""
        frame_id = self._next_id
        self._next_id += 1
        self._sock.sendall(encode_frame(frame_id, message))
        frame = self._read_frame()
        if frame.id != frame_id:
            raise RuntimeError(f"answer {frame.id} does not match request {frame_id}")
        if frame.error is not None:
            error = ErrorResponse.model_validate(frame.error)
            raise AirflowRuntimeError(error.error.value, error.detail)
        return None if frame.body is None else to_runner.validate_python(frame.body)
