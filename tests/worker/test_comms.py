"""Framing of the Supervisor <-> Task Runner channel."""

from __future__ import annotations

import socket
import threading
import uuid
from datetime import UTC, datetime

import pytest

from slipstream.sdk import AirflowRuntimeError
from slipstream.worker.comms import FrameBuffer, RunnerChannel, decode_request, encode_frame
from slipstream.worker.messages import (
    ErrorResponse,
    ErrorType,
    GetVariable,
    SetXCom,
    StartupDetails,
    VariableResult,
    XComResult,
)
from slipstream.worker.models import BundleInfo, TaskInstance, TIRunContext
from tests.worker.harness import dag_run


def test_frame_layout_matches_airflow() -> None:
    frame = encode_frame(3, GetVariable(key="k"))
    assert int.from_bytes(frame[:4], "big") == len(frame) - 4
    # msgpack: fixarray(3), id 3, fixmap(2), "type" ... ; the third slot is nil
    assert frame[4:7] == b"\x93\x03\x82"
    assert frame.endswith(b"\xc0")


def test_frames_survive_any_chunking() -> None:
    stream = b"".join(encode_frame(i, GetVariable(key=f"key{i}")) for i in range(1, 6))
    buffer = FrameBuffer()
    frames = [frame for byte in stream for frame in buffer.feed(bytes([byte]))]
    assert [(f.id, decode_request(f)) for f in frames] == [
        (i, GetVariable(key=f"key{i}")) for i in range(1, 6)
    ]


def test_unknown_requests_get_an_error_not_silence() -> None:
    [frame] = FrameBuffer().feed(encode_frame(7, XComResult(key="k", value=1)))
    answer = decode_request(frame)
    assert isinstance(answer, ErrorResponse)
    assert answer.detail is not None
    assert answer.detail["message"] == "Unhandled request"


def _serve(sock: socket.socket, answers: list[bytes]) -> None:
    buffer = FrameBuffer()
    for answer in answers:
        while not list(buffer.feed(sock.recv(1 << 20))):
            pass
        sock.sendall(answer)


def test_startup_details_round_trip_with_aware_datetimes() -> None:
    ours, theirs = socket.socketpair()
    started = datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=UTC)
    startup = StartupDetails(
        ti=TaskInstance(
            id=uuid.uuid4(), task_id="t", dag_id="d", run_id="r", try_number=1, dag_version_id=uuid.uuid4()
        ),
        dag_rel_path="d.py",
        bundle_info=BundleInfo(name="dags-folder"),
        start_date=started,
        ti_context=TIRunContext.model_validate({"dag_run": dag_run("d"), "max_tries": 0}),
    )
    ours.sendall(encode_frame(0, startup))
    assert RunnerChannel(theirs).read_pushed() == startup


def test_requests_and_answers_including_megabytes_and_errors() -> None:
    ours, theirs = socket.socketpair()
    big = "y" * (8 << 20)
    answers = [
        encode_frame(1, VariableResult(key="k", value=big)),
        encode_frame(2, None),
        encode_frame(3, None, ErrorResponse(error=ErrorType.VARIABLE_NOT_FOUND, detail={"key": "gone"})),
        encode_frame(99, None),
    ]
    server = threading.Thread(target=_serve, args=(ours, answers))
    server.start()
    channel = RunnerChannel(theirs)
    assert channel.request(GetVariable(key="k")) == VariableResult(key="k", value=big)
    xcom = SetXCom(key="k", value=big, dag_id="d", run_id="r", task_id="t")
    assert channel.request(xcom) is None
    with pytest.raises(AirflowRuntimeError) as raised:
        channel.request(GetVariable(key="gone"))
    assert raised.value.error == "VARIABLE_NOT_FOUND"
    with pytest.raises(RuntimeError, match="does not match"):
        channel.request(GetVariable(key="k"))
    server.join()
