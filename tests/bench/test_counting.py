"""The bench's DynamoDB counter: calls, operations and threads counted, the whole SDK call timed."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from slipstream.bench.counting import CallCounter
from slipstream.core import aws as aws_clients

pytestmark = pytest.mark.usefixtures("aws")

PAUSE = 0.02


def test_counts_calls_operations_and_threads() -> None:
    client = aws_clients.dynamodb()
    counter = CallCounter()
    counter.attach(client)
    client.list_tables()
    worker = threading.Thread(target=client.describe_limits, name="lambda-api_3")
    worker.start()
    worker.join()
    assert (counter.calls, counter.operations) == (2, ["ListTables", "DescribeLimits"])
    assert counter.threads == {"MainThread": 1, "lambda-api": 1}
    counter.reset()
    assert (counter.calls, counter.seconds, counter.operations, dict(counter.threads)) == (0, 0.0, [], {})


def test_times_the_whole_sdk_call_including_botocore_before_its_first_event() -> None:
    """Time the client spends before `provide-client-params` (here a pause in the operation model
    lookup, the first thing a call does) is the SDK's, not the caller's."""
    client = aws_clients.dynamodb()
    model = client.meta.service_model
    lookup = model.operation_model

    def slow_lookup(name: str) -> Any:
        time.sleep(PAUSE)
        return lookup(name)

    counter = CallCounter()
    counter.attach(client)
    model.operation_model = slow_lookup
    try:
        started = time.perf_counter()
        client.list_tables()
        elapsed = time.perf_counter() - started
    finally:
        del model.operation_model
    assert PAUSE <= counter.seconds <= elapsed


def test_a_refused_call_is_counted_and_timed() -> None:
    client = aws_clients.dynamodb()
    counter = CallCounter()
    counter.attach(client)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_table(TableName="missing")
    assert counter.operations == ["DescribeTable"]
    assert counter.seconds > 0
