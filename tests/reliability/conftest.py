"""Shared fault-injection fixtures: an `Injector` on the functions' boto3 clients and a `World` to
snapshot, restore and compare (see `faults.py`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.reliability.faults import Injector, World


@pytest.fixture
def injector(aws: None) -> Injector:
    injector = Injector()
    injector.install()
    return injector


@pytest.fixture
def world(injector: Injector, monkeypatch: pytest.MonkeyPatch) -> World:
    # moto refuses a second PurgeQueue within 60 s, as SQS does; the world purges between cases.
    monkeypatch.setenv("MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR", "false")
    return World(injector)


@pytest.fixture
def http(aws: None) -> Iterator[TestClient]:
    """Both APIs at their paths; a server error is an answer (500), not an exception in the test."""
    from slipstream.api.app import create_app

    with TestClient(create_app(), base_url="http://testserver/", raise_server_exceptions=False) as client:
        yield client
