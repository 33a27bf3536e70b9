"""The local event source mapping: Lambda's event shape and its partial-batch retry contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from slipstream.local.moto import moto_server
from slipstream.local.resources import LocalResources, create_resources
from slipstream.local.stack import STREAM_HANDLER
from slipstream.local.streams import EventSourceMapping, StreamPoller
from slipstream.local.template import load_template


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalResources]:
    with moto_server():
        yield create_resources()


class Recorder:
    """A stream function that fails chosen records the first time it sees them."""

    def __init__(self, fail_once: frozenset[str] = frozenset(), crash_first: bool = False) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.fail_once = set(fail_once)
        self.crash_first = crash_first

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event["Records"]
        self.batches.append(records)
        if self.crash_first:
            self.crash_first = False
            raise RuntimeError("function error")
        failed = [r for r in records if r["dynamodb"]["Keys"]["PK"]["S"] in self.fail_once]
        self.fail_once -= {r["dynamodb"]["Keys"]["PK"]["S"] for r in failed}
        return {"batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in failed]}

    def keys(self, batch: int) -> list[str]:
        return [r["dynamodb"]["Keys"]["PK"]["S"] for r in self.batches[batch]]


def _poller(stack: LocalResources, handler: Recorder, **mapping: Any) -> StreamPoller:
    poller = StreamPoller(
        boto3.client("dynamodbstreams"),
        stack.stream_arn,
        handler,
        function_name="slipstream-stream",
        region="us-east-1",
        mapping=EventSourceMapping(**{"report_batch_item_failures": True, **mapping}),
        retry_wait=0,
    )
    poller.start_at_latest()
    return poller


def _write(stack: LocalResources, *pks: str) -> None:
    ddb = boto3.client("dynamodb")
    for pk in pks:
        ddb.put_item(
            TableName=stack.table_name, Item={"PK": {"S": pk}, "SK": {"S": "x"}, "blob": {"B": b"\x00\xff"}}
        )


def _drain(poller: StreamPoller) -> None:
    while poller.poll_once():
        pass


def test_records_have_the_shape_lambda_delivers(stack: LocalResources) -> None:
    handler = Recorder()
    poller = _poller(stack, handler)
    _write(stack, "shape")
    _drain(poller)
    [[record]] = handler.batches
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "us-east-1"
    assert record["eventSourceARN"] == stack.stream_arn
    change = record["dynamodb"]
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert change["SequenceNumber"].isdigit()
    assert isinstance(change["ApproximateCreationDateTime"], int)
    assert change["NewImage"]["blob"] == {"B": "AP8="}  # base64, as in Lambda's JSON


def test_a_partial_failure_is_retried_from_the_first_failed_record(stack: LocalResources) -> None:
    handler = Recorder(fail_once={"p3", "p5"})
    poller = _poller(stack, handler)
    _write(stack, "p1", "p2", "p3", "p4", "p5")
    _drain(poller)
    assert handler.keys(0) == ["p1", "p2", "p3", "p4", "p5"]
    assert handler.keys(1) == ["p3", "p4", "p5"]
    assert len(handler.batches) == 2


def test_a_function_error_retries_the_whole_batch(stack: LocalResources) -> None:
    handler = Recorder(crash_first=True)
    poller = _poller(stack, handler)
    _write(stack, "e1", "e2")
    _drain(poller)
    assert [handler.keys(0), handler.keys(1)] == [["e1", "e2"], ["e1", "e2"]]


def test_batches_are_capped_and_stay_in_order(stack: LocalResources) -> None:
    handler = Recorder()
    poller = _poller(stack, handler, batch_size=2)
    _write(stack, "b1", "b2", "b3")
    _drain(poller)
    assert [handler.keys(i) for i in range(len(handler.batches))] == [["b1", "b2"], ["b3"]]


def test_a_batch_that_fails_every_retry_is_skipped(stack: LocalResources) -> None:
    def always_fails(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append([r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["dynamodb"]["SequenceNumber"]}]}

    calls: list[list[str]] = []
    poller = _poller(stack, always_fails, maximum_retry_attempts=2)  # type: ignore[arg-type]
    _write(stack, "s1")
    _drain(poller)
    _write(stack, "s2")
    _drain(poller)
    assert calls == [["s1"], ["s1"], ["s1"], ["s2"], ["s2"], ["s2"]]


def test_the_mapping_is_read_from_the_template() -> None:
    mapping = EventSourceMapping.from_template(load_template(), STREAM_HANDLER)
    assert mapping == EventSourceMapping(
        batch_size=100, maximum_retry_attempts=5, report_batch_item_failures=True
    )


def test_cancelled_transactions_lose_no_concurrent_write(stack: LocalResources) -> None:
    """moto restores a table copy when a transaction is cancelled (slipstream.local.moto fixes it)."""
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    handler = Recorder()
    poller = _poller(stack, handler)
    ddb = boto3.client("dynamodb")

    def cancelled(n: int) -> None:
        put = {"TableName": stack.table_name, "Item": {"PK": {"S": f"t{n}"}, "SK": {"S": "x"}}}
        with pytest.raises(ClientError):
            ddb.transact_write_items(
                TransactItems=[{"Put": {**put, "ConditionExpression": "attribute_exists(PK)"}}]
            )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: cancelled(n) if n % 2 else _write(stack, f"c{n}"), range(60)))
    _drain(poller)
    written = {f"c{n}" for n in range(0, 60, 2)}
    delivered = {key for batch in range(len(handler.batches)) for key in handler.keys(batch)}
    assert delivered == written
    items = ddb.scan(TableName=stack.table_name, ProjectionExpression="PK")["Items"]
    assert written <= {item["PK"]["S"] for item in items}
