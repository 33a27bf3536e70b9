"""Shared test helpers (seeding lives in slipstream.local.seed, shared with the benchmark)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from slipstream.core.settings import get_settings

if TYPE_CHECKING:
    from slipstream.local.streams import StreamPoller


@contextmanager
def env(**values: str) -> Iterator[None]:
    """Temporarily set SLIPSTREAM_* settings (the settings cache is refreshed both ways)."""
    import os

    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def dumps(value: Any) -> str:
    return json.dumps(value)


def table_stream(handler: Callable[[dict[str, Any], Any], Any], *, batch_size: int = 100) -> StreamPoller:
    """The table's stream in in-process moto, from now on, delivered to `handler` as Lambda would."""
    import boto3

    from slipstream.local.streams import EventSourceMapping, StreamPoller

    table = boto3.client("dynamodb").describe_table(TableName=get_settings().table_name)["Table"]
    # botocore addresses DynamoDB Streams by account (`<account>.streams-ddb...`), a host
    # in-process moto does not route: name the regional endpoint it does.
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    poller = StreamPoller(
        streams,
        table["LatestStreamArn"],
        handler,
        function_name="slipstream-stream",
        region="us-east-1",
        mapping=EventSourceMapping(batch_size=batch_size, report_batch_item_failures=True),
        retry_wait=0,
    )
    poller.start_at_latest()
    return poller
