"""The table stream's event source mapping, run locally: moto's stream in, Lambda events out.

What the scheduler relies on from Lambda is kept: every shard is read in order, from LATEST for the
shards open at start (from TRIM_HORIZON for shards found later); batches of up to `batch_size`
records arrive in the shape Lambda delivers; with `ReportBatchItemFailures` a batch that lists
failures is retried from its first failed record (the records before it count as done), and a
function error retries the whole batch. After `maximum_retry_attempts` retries the batch is
skipped and logged (the deployed mapping sends its description to the failure queue as well).

moto's records lack `eventSourceARN` and `awsRegion`, and boto3 parses dates and binary values;
both are put back as Lambda sends them.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slipstream.local.events import LocalContext
from slipstream.local.template import function_events, resolve

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
Record = dict[str, Any]


@dataclass(frozen=True)
class EventSourceMapping:
    """The settings of the mapping that matter locally (`maximum_retry_attempts` -1: no limit)."""

    batch_size: int = 100
    maximum_retry_attempts: int = -1
    report_batch_item_failures: bool = False

    @classmethod
    def from_template(cls, template: Mapping[str, Any], handler: str) -> EventSourceMapping:
        [source] = function_events(template, handler, "DynamoDB")
        source = resolve(source, template, lambda name: name)
        return cls(
            batch_size=int(source.get("BatchSize", 100)),
            maximum_retry_attempts=int(source.get("MaximumRetryAttempts", -1)),
            report_batch_item_failures="ReportBatchItemFailures" in source.get("FunctionResponseTypes", []),
        )


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    pending: list[Record] = field(default_factory=list)
    """Records read but not yet processed, oldest first; the head is the next batch."""
    retries: int = 0
    retry_at: float = 0.0


class StreamPoller:
    """Feeds one stream's records to `handler`, shard by shard, until `run`'s event is set."""

    def __init__(
        self,
        client: Any,
        stream_arn: str,
        handler: Handler,
        *,
        function_name: str,
        region: str,
        mapping: EventSourceMapping,
        retry_wait: float = 1.0,
    ) -> None:
        self._client = client
        self._stream_arn = stream_arn
        self._handler = handler
        self._function_name = function_name
        self._region = region
        self._mapping = mapping
        self._retry_wait = retry_wait
        self._shards: dict[str, _Shard] = {}
        self._known: set[str] = set()

    def start_at_latest(self) -> None:
        """Open every current shard at LATEST: what a new mapping with StartingPosition LATEST sees."""
        self._discover("LATEST")

    def run(self, stop: threading.Event, interval: float = 0.25, rediscover: float = 30.0) -> None:
        """Poll until `stop` is set (Lambda polls each shard about four times a second)."""
        next_discovery = time.monotonic() + rediscover
        while not stop.is_set():
            try:
                if time.monotonic() >= next_discovery:
                    self._discover("TRIM_HORIZON")
                    next_discovery = time.monotonic() + rediscover
                busy = self.poll_once()
            except Exception:
                log.exception("reading the table stream failed; retrying")
                busy = False
            if not busy:
                stop.wait(interval)

    def poll_once(self) -> bool:
        """One batch per shard; True if any shard had records."""
        busy = False
        for shard in list(self._shards.values()):
            if shard.retry_at > time.monotonic():
                continue
            if not shard.pending:
                self._read(shard)
            if shard.pending:
                busy = True
                self._deliver(shard)
            elif shard.iterator is None:
                del self._shards[shard.shard_id]  # closed and drained
        return busy

    def _discover(self, position: str) -> None:
        description = self._client.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id in self._known:
                continue
            iterator = self._client.get_shard_iterator(
                StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]
            self._known.add(shard_id)
            self._shards[shard_id] = _Shard(shard_id, iterator)

    def _read(self, shard: _Shard) -> None:
        if shard.iterator is None:
            return
        response = self._client.get_records(ShardIterator=shard.iterator, Limit=self._mapping.batch_size)
        shard.iterator = response.get("NextShardIterator")
        shard.pending = [self._lambda_record(record) for record in response["Records"]]

    def _deliver(self, shard: _Shard) -> None:
        batch = shard.pending[: self._mapping.batch_size]
        done = self._invoke(batch)
        shard.pending = shard.pending[done:]
        if done == len(batch):
            shard.retries = 0
            return
        shard.retries += 1
        if 0 <= self._mapping.maximum_retry_attempts < shard.retries:
            first, last = (record["dynamodb"]["SequenceNumber"] for record in (batch[done], batch[-1]))
            log.error("stream records %s..%s of %s failed every retry; skipped", first, last, shard.shard_id)
            shard.pending = shard.pending[len(batch) - done :]
            shard.retries = 0
        else:
            shard.retry_at = time.monotonic() + self._retry_wait

    def _invoke(self, batch: list[Record]) -> int:
        """How many records, from the head of `batch`, were processed."""
        try:
            response = self._handler(
                {"Records": batch}, LocalContext.invocation(self._function_name, self._region)
            )
        except Exception:
            log.exception("%s failed on a batch of %d records", self._function_name, len(batch))
            return 0
        failures = (
            (response or {}).get("batchItemFailures") if self._mapping.report_batch_item_failures else None
        )
        if not failures:
            return len(batch)
        sequence = [record["dynamodb"]["SequenceNumber"] for record in batch]
        failed = [item.get("itemIdentifier") for item in failures]
        if not all(identifier in sequence for identifier in failed):
            log.error("%s reported failures that are not in the batch: %s", self._function_name, failed)
            return 0  # Lambda treats the whole batch as failed
        return min(sequence.index(identifier) for identifier in failed)

    def _lambda_record(self, record: Record) -> Record:
        return {
            **record,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self._region,
            "dynamodb": _as_lambda_sends(record["dynamodb"]),
            "eventSourceARN": self._stream_arn,
        }


def _as_lambda_sends(value: Any) -> Any:
    """Undo boto3's parsing: binary values are base64 text and dates are epoch seconds in Lambda's JSON."""
    if isinstance(value, dict):
        return {key: _as_lambda_sends(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_lambda_sends(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value
