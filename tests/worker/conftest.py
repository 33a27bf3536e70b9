from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from slipstream.sdk.serialize import serialize_file
from slipstream.worker.models import ExecuteTask
from slipstream.worker.settings import get_settings
from tests.worker.harness import ScriptedSupervisor

EXAMPLE_DAGS = Path(__file__).parent / "dags"


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    shutil.copytree(EXAMPLE_DAGS, folder)
    return folder


@pytest.fixture
def peer(dags_folder: Path) -> ScriptedSupervisor:
    return ScriptedSupervisor(dags_folder)


@pytest.fixture
def live_api(aws: None, dags_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The API over real HTTP (uvicorn in a thread, DynamoDB on moto) and the worker's settings
    pointed at it."""
    from slipstream.api.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    url = f"http://127.0.0.1:{port}/execution/"
    for name, value in {
        "EXECUTION_API_URL": url,
        "DAGS_FOLDER": str(dags_folder),
        "WORKER_LOG_DIR": str(tmp_path / "logs"),
        "API_RETRIES": "1",
    }.items():
        monkeypatch.setenv(f"SLIPSTREAM_{name}", value)
    get_settings.cache_clear()
    yield url
    server.should_exit = True
    thread.join(5)
    get_settings.cache_clear()


def register(dags_folder: Path, dag_file: str) -> str:
    from slipstream.local.seed import start_run
    from slipstream.store.dags import Dags

    [document] = serialize_file(dags_folder / dag_file, dags_folder)
    Dags().put(document, version_id="0197c39f-2222-7ccc-8ddd-0123456789ab", is_paused=False)
    return str(start_run(document["dag_id"])["run_id"])


def queue(dag_id: str, run_id: str, task_id: str) -> tuple[dict[str, Any], ExecuteTask]:
    from slipstream.local.seed import queue_ti

    ti, workload = queue_ti(dag_id, run_id, task_id)
    return ti, ExecuteTask.model_validate(workload)
