"""Fixtures for tests that run Airflow's own Task SDK code against Slipstream over real HTTP."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


def airflow_python() -> str:
    """The Python of the separate venv holding apache-airflow-task-sdk (created by `make test`)."""
    configured = os.environ.get("SLIPSTREAM_AIRFLOW_PYTHON")
    default = Path(__file__).resolve().parents[2] / ".airflow-venv" / "bin" / "python"
    path = configured or str(default)
    if not Path(path).exists():
        pytest.fail(f"Airflow's Task SDK venv is missing ({path}); run `make airflow-venv`")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_api(aws: None) -> Iterator[str]:
    """The API served over real HTTP on 127.0.0.1 (uvicorn in a thread, moto in-process)."""
    import uvicorn

    from slipstream.api.app import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/execution/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
