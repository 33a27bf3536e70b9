"""A scripted peer for the Task Runner: the Supervisor's side of the comms protocol, backed by
dicts instead of the Execution API. It drives a real runner subprocess over real sockets, so the
runner and the SDK are tested end to end without HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from slipstream.worker.comms import FrameBuffer, decode_request, encode_frame
from slipstream.worker.messages import (
    ConnectionResult,
    DeleteXCom,
    ErrorResponse,
    ErrorType,
    GetConnection,
    GetVariable,
    GetXCom,
    PutVariable,
    RetryTask,
    SetXCom,
    StartupDetails,
    SucceedTask,
    TaskState,
    VariableResult,
    XComResult,
)
from slipstream.worker.models import BundleInfo, TaskInstance, TIRunContext

RUN_ID = "manual__2026-07-01T12:00:00+00:00"


def dag_run(dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    when = "2026-07-01T12:00:00Z"
    return {
        "dag_id": dag_id,
        "run_id": RUN_ID,
        "logical_date": when,
        "data_interval_start": when,
        "data_interval_end": when,
        "run_after": when,
        "start_date": when,
        "end_date": None,
        "clear_number": 0,
        "run_type": "manual",
        "state": "running",
        "conf": conf or {},
        "triggering_user_name": None,
        "consumed_asset_events": [],
        "partition_key": None,
    }


@dataclass
class Result:
    requests: list[BaseModel]
    exit_code: int
    stdout: bytes
    stderr: bytes
    logs: list[dict[str, Any]]

    @property
    def outcome(self) -> BaseModel | None:
        terminal = [r for r in self.requests if isinstance(r, SucceedTask | RetryTask | TaskState)]
        assert len(terminal) <= 1, terminal
        return terminal[0] if terminal else None

    def of(self, kind: type[BaseModel]) -> list[Any]:
        return [r for r in self.requests if isinstance(r, kind)]


@dataclass
class ScriptedSupervisor:
    dags_folder: Path
    xcoms: dict[tuple[str, str, int], Any] = field(default_factory=dict)
    """(task_id, key, map_index) -> value, for the one run every test uses."""
    variables: dict[str, str] = field(default_factory=dict)
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def run(
        self,
        dag_file: str,
        dag_id: str,
        task_id: str,
        *,
        conf: dict[str, Any] | None = None,
        should_retry: bool = False,
        xcom_keys_to_clear: tuple[str, ...] = (),
        timeout: float = 60,
    ) -> Result:
        ours, theirs = zip(*(socket.socketpair() for _ in range(4)), strict=True)
        requests, stdout, stderr, logs = ours
        proc = subprocess.Popen(
            [sys.executable, "-m", "slipstream.worker.runner", "--log-fd", str(theirs[3].fileno())],
            stdin=theirs[0],
            stdout=theirs[1],
            stderr=theirs[2],
            pass_fds=[theirs[3].fileno()],
            env=os.environ | {"SLIPSTREAM_DAGS_FOLDER": str(self.dags_folder)},
        )
        for sock in theirs:
            sock.close()
        captured = {name: bytearray() for name in ("stdout", "stderr", "logs")}
        drains = [
            threading.Thread(target=_drain, args=(sock, captured[name]), daemon=True)
            for sock, name in ((stdout, "stdout"), (stderr, "stderr"), (logs, "logs"))
        ]
        for drain in drains:
            drain.start()
        startup = StartupDetails(
            ti=TaskInstance(
                id=uuid.uuid4(),
                task_id=task_id,
                dag_id=dag_id,
                run_id=RUN_ID,
                try_number=1,
                dag_version_id=uuid.uuid4(),
            ),
            dag_rel_path=dag_file,
            bundle_info=BundleInfo(name="dags-folder"),
            start_date=datetime.now(UTC),
            ti_context=TIRunContext.model_validate(
                {
                    "dag_run": dag_run(dag_id, conf),
                    "max_tries": 1,
                    "should_retry": should_retry,
                    "xcom_keys_to_clear": list(xcom_keys_to_clear),
                }
            ),
        )
        requests.sendall(encode_frame(0, startup))
        seen: list[BaseModel] = []
        frames = FrameBuffer()
        while data := requests.recv(65536):
            for frame in frames.feed(data):
                request = decode_request(frame)
                assert not isinstance(request, ErrorResponse), request
                seen.append(request)
                body, error = self._answer(request)
                requests.sendall(encode_frame(frame.id, body, error))
        exit_code = proc.wait(timeout)
        for drain in drains:
            drain.join(timeout)
        return Result(
            seen,
            exit_code,
            bytes(captured["stdout"]),
            bytes(captured["stderr"]),
            [json.loads(line) for line in captured["logs"].splitlines()],
        )

    def _answer(self, request: BaseModel) -> tuple[BaseModel | None, ErrorResponse | None]:
        match request:
            case GetXCom():
                value = self.xcoms.get((request.task_id, request.key, request.map_index or -1))
                return XComResult(key=request.key, value=value), None
            case SetXCom():
                self.xcoms[(request.task_id, request.key, request.map_index or -1)] = request.value
            case DeleteXCom():
                self.xcoms.pop((request.task_id, request.key, request.map_index or -1), None)
            case GetVariable():
                if request.key not in self.variables:
                    return None, ErrorResponse(error=ErrorType.VARIABLE_NOT_FOUND)
                return VariableResult(key=request.key, value=self.variables[request.key]), None
            case PutVariable():
                self.variables[request.key] = request.value or ""
            case GetConnection():
                if request.conn_id not in self.connections:
                    return None, ErrorResponse(error=ErrorType.CONNECTION_NOT_FOUND)
                return ConnectionResult.model_validate(self.connections[request.conn_id]), None
        return None, None


def _drain(sock: socket.socket, into: bytearray) -> None:
    while data := sock.recv(65536):
        into += data
