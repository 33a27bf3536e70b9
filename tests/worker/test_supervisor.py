"""The Supervisor's kill and crash paths, against a tiny scripted stand-in for the Execution API.

THROWAWAY API: `_ScriptedAPI` below answers just enough of the contract (spec §4.2, §7) to drive
heartbeat verdicts, timeouts and crashes. Everything else about the Supervisor is tested against
the real API in test_e2e.py.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from slipstream.worker.models import ExecuteTask
from slipstream.worker.settings import get_settings
from slipstream.worker.supervisor import supervise
from tests.worker.harness import dag_run


class _ScriptedAPI(ThreadingHTTPServer):
    def __init__(self, should_retry: bool, heartbeat_status: int) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.should_retry = should_retry
        self.heartbeat_status = heartbeat_status
        self.calls: list[tuple[str, str, str, Any]] = []

    def states(self) -> list[str]:
        return [body["state"] for method, path, _, body in self.calls if path.endswith("/state")]


class _Handler(BaseHTTPRequestHandler):
    server: _ScriptedAPI

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.server.calls.append((self.command, self.path, self.headers["authorization"], body))
        if self.path.endswith("/run"):
            context = {
                "dag_run": dag_run("misbehave"),
                "max_tries": 1,
                "should_retry": self.server.should_retry,
            }
            self._reply(200, context, {"Refreshed-API-Token": "execution-token"})
        elif self.path.endswith("/heartbeat"):
            status = self.server.heartbeat_status
            self._reply(status, None if status == 204 else {"detail": {"reason": "scripted"}})
        else:
            self._reply(204, None)

    def _reply(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_PATCH = do_PUT = do_GET = do_POST = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[_ScriptedAPI]:
    server = _ScriptedAPI(should_retry=True, heartbeat_status=204)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(autouse=True)
def worker_env(
    api: _ScriptedAPI, dags_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    env = {
        "EXECUTION_API_URL": f"http://127.0.0.1:{api.server_port}/execution/",
        "DAGS_FOLDER": str(dags_folder),
        "WORKER_LOG_DIR": str(tmp_path / "logs"),
        "HEARTBEAT_INTERVAL": "0.2",
        "KILL_GRACE": "1",
        "SUCCESS_OVERTIME": "0.5",
        "API_RETRIES": "1",
    }
    for name, value in env.items():
        monkeypatch.setenv(f"SLIPSTREAM_{name}", value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _workload(task_id: str) -> ExecuteTask:
    return ExecuteTask.model_validate(
        {
            "token": "workload-token",
            "ti": {
                "id": str(uuid.uuid4()),
                "task_id": task_id,
                "dag_id": "misbehave",
                "run_id": "manual__1",
                "try_number": 1,
                "dag_version_id": str(uuid.uuid4()),
                "pool_slots": 1,
                "priority_weight": 1,
            },
            "dag_rel_path": "misbehave.py",
            "bundle_info": {"name": "dags-folder", "version": None},
            "log_path": None,
        }
    )


@pytest.mark.parametrize("status", [404, 409, 410])
def test_a_refused_heartbeat_stops_the_task_and_reports_nothing(api: _ScriptedAPI, status: int) -> None:
    api.heartbeat_status = status
    outcome = supervise(_workload("sleepy"))
    assert outcome.state is None
    assert outcome.exit_code is not None
    assert outcome.exit_code != 0
    assert outcome.http_calls == {"run": 1, "heartbeat": 1}
    assert api.states() == []


def test_three_failed_heartbeats_stop_the_task_which_then_reports(api: _ScriptedAPI) -> None:
    api.heartbeat_status = 500
    outcome = supervise(_workload("sleepy"))
    assert outcome.http_calls["heartbeat"] == 3
    assert api.states() == ["up_for_retry"]  # the runner reported AirflowTaskTerminated


def test_execution_timeout_stops_the_task(api: _ScriptedAPI) -> None:
    outcome = supervise(_workload("too_slow"))
    assert outcome.state == "up_for_retry"
    [(_, _, auth, body)] = [call for call in api.calls if call[1].endswith("/state")]
    assert auth == "Bearer execution-token"
    assert body["retry_reason"].startswith("AirflowTaskTerminated")


@pytest.mark.parametrize(("should_retry", "state"), [(True, "up_for_retry"), (False, "failed")])
@pytest.mark.parametrize("task_id", ["killed", "hard_exit", "sys_exit"])
def test_a_runner_that_dies_unreported_is_reported_by_the_supervisor(
    api: _ScriptedAPI, task_id: str, should_retry: bool, state: str
) -> None:
    api.should_retry = should_retry
    outcome = supervise(_workload(task_id))
    assert outcome.state == state
    assert api.states() == [state]


def test_a_runner_ignoring_sigterm_is_killed(api: _ScriptedAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIPSTREAM_HEARTBEAT_INTERVAL", "1")  # the task has installed SIG_IGN by then
    get_settings.cache_clear()
    api.heartbeat_status = 409
    outcome = supervise(_workload("stubborn"))
    assert outcome.exit_code == -9
    assert 1 <= outcome.duration < 5


def test_a_runner_outliving_its_report_is_stopped(api: _ScriptedAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLIPSTREAM_RUNNER_START", "spawn")  # a fork leaves via os._exit: nothing lingers
    get_settings.cache_clear()
    outcome = supervise(_workload("lingers"))
    assert outcome.state == "success"
    assert outcome.exit_code is not None
    assert outcome.exit_code < 0
    log = (Path(get_settings().worker_log_dir)).rglob("*.log")
    events = [json.loads(line)["event"] for path in log for line in path.read_text().splitlines()]
    assert any("success_overtime" in event for event in events)
