"""Secrets never reach a log: the API's Powertools output, the scheduler handlers' output, and a
worker's per-try log file and stdout echo. The task under test reads a connection and a variable
whose key marks it secret (Airflow's sensitive words) and prints both: the worker masks them.
Every token involved is a secret too."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from starlette.testclient import TestClient

from slipstream.core.logging import logger
from slipstream.core.settings import get_settings
from slipstream.local.events import LocalContext
from slipstream.store.connections import Connections
from slipstream.store.variables import Variables
from tests.api.conftest import RUN_BODY
from tests.security.conftest import EXECUTION, MANAGEMENT, World
from tests.security.tokens import bearer
from tests.support import env
from tests.worker.conftest import live_api, queue, register  # noqa: F401 - live_api is a fixture

PASSWORD = "pa55-w0rd-in-the-connection"
SECRET_VALUE = "value-of-the-secret-variable"


@pytest.fixture
def api_log() -> Iterator[io.StringIO]:
    """Everything the shared Powertools logger writes, DEBUG included, as CloudWatch would get it."""
    stream = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous, level = handler.setStream(stream), logger.log_level
    logger.setLevel("DEBUG")
    yield stream
    handler.setStream(previous)
    logger.setLevel(level)


@pytest.fixture
def dags_folder() -> Path:
    """For `live_api`: this package's DAGs."""
    return Path(__file__).parent / "dags"


def _secrets() -> None:
    Connections().put("warehouse", {"conn_type": "postgres", "host": "db", "password": PASSWORD})
    Variables().put("api_secret", SECRET_VALUE, None)


def _leaks(text: str, secrets: dict[str, str]) -> list[str]:
    return [name for name, secret in secrets.items() if secret in text]


def test_the_api_logs_no_secret(api: TestClient, world: World, api_log: io.StringIO) -> None:
    _secrets()
    ti, admin = world.ti, bearer(world.admin_token)
    started = api.patch(f"{EXECUTION}/task-instances/{ti.id}/run", json=RUN_BODY, headers=ti.workload_headers)
    refreshed = started.headers["Refreshed-API-Token"]
    for path in ("connections/warehouse", "variables/api_secret", "connections/missing", "variables/missing"):
        api.get(f"{EXECUTION}/{path}", headers=ti.headers)
    api.put(f"{EXECUTION}/variables/api_secret", json={"val": SECRET_VALUE}, headers=ti.headers)
    api.put(f"{EXECUTION}/task-instances/{ti.id}/heartbeat", json={"hostname": "h"}, headers=ti.headers)
    api.put(f"{EXECUTION}/task-instances/{ti.id}/heartbeat", json={"x": 1}, headers=ti.workload_headers)
    api.get(f"{EXECUTION}/variables/v", headers=bearer(ti.token + "tampered"))
    api.post(f"{MANAGEMENT}/variables", json={"key": "db_password", "value": SECRET_VALUE}, headers=admin)
    api.post(
        f"{MANAGEMENT}/connections",
        json={"connection_id": "other", "conn_type": "http", "password": PASSWORD},
        headers=admin,
    )
    api.get(f"{MANAGEMENT}/connections/warehouse", headers=admin)
    api.get(f"{MANAGEMENT}/variables", headers=bearer(ti.token))
    text = api_log.getvalue()
    assert "management write" in text, "the capture sees the API's log"
    secrets = {
        "password": PASSWORD,
        "variable": SECRET_VALUE,
        "workload token": ti.workload_token,
        "execution token": ti.token,
        "refreshed token": refreshed,
        "admin token": world.admin_token,
    }
    assert _leaks(text, secrets) == []


def test_the_scheduler_logs_no_token(world: World, api_log: io.StringIO) -> None:
    """The timer re-sends the message of a TI queued too long: the workload token inside it
    travels to SQS, never to the log."""
    from slipstream.handlers.timer import handler

    time.sleep(1.1)
    with env(SLIPSTREAM_QUEUED_RESEND_SECONDS="1"):
        handler({}, LocalContext())
    sqs = boto3.client("sqs")
    url = get_settings().queue_urls["default"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    tokens = {f"workload token {i}": json.loads(m["Body"])["token"] for i, m in enumerate(messages)}
    assert tokens
    assert "resen" in api_log.getvalue().lower(), "the capture sees the timer's log"
    assert _leaks(api_log.getvalue(), tokens) == []


@pytest.mark.e2e
def test_a_worker_logs_no_secret(
    live_api: str,  # noqa: F811
    dags_folder: Path,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from slipstream.worker.supervisor import supervise

    _secrets()
    _, workload = queue("secrets", register(dags_folder, "secrets.py"), "use_secrets")
    assert supervise(workload).state == "success"
    per_try = "".join(p.read_text() for p in (tmp_path / "logs").rglob("*.log"))
    assert "characters" in per_try, "the per-try log holds the task's output"
    # what the task printed and logged with the secrets in it, masked as Airflow masks them
    assert "connecting with ***" in per_try and "the key is ***" in per_try
    captured = capfd.readouterr()
    secrets = {"password": PASSWORD, "variable": SECRET_VALUE, "workload token": workload.token}
    assert _leaks(per_try + captured.out + captured.err, secrets) == []
