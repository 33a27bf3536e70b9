"""Fault injection through botocore's event system, and a resettable in-process world to inject into.

`Injector` hooks `before-call.<service>` on the clients of `slipstream.core.aws` (the only clients
the functions use), counts every API call by service, and can answer an error for chosen calls
instead of sending them. A `before-call` answer skips botocore's retry handler, so an injected
throttle stands for a call whose every attempt was throttled (the clients' standard retry mode,
3 attempts, gave up): the error the functions' own code sees.

`World` snapshots the table, the bucket and the queues after seeding and puts them back between
cases (through its own clients, which the injector does not see), reads the table's stream as
Lambda would deliver it, and captures the state in a form two runs can be compared in: timestamps
and generated ids replaced by placeholders, items sorted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse

from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.local.events import LocalContext
from slipstream.local.streams import StreamPoller
from tests.support import table_stream

SERVICES: dict[str, Callable[[], Any]] = {
    "dynamodb": aws.dynamodb,
    "s3": aws.s3,
    "sqs": aws.sqs,
    "secretsmanager": aws.secretsmanager,
}
EVENT_IDS = {"dynamodb": "dynamodb", "s3": "s3", "sqs": "sqs", "secretsmanager": "secrets-manager"}

THROTTLES = ("ProvisionedThroughputExceededException", "ThrottlingException")
CONFLICT = "TransactionConflict"
"""A TransactionCanceledException whose reasons name a TransactionConflict (another transaction
touched an item): DynamoDB's answer to two writers racing in transactions."""
UNAVAILABLE = "ServiceUnavailable"


@dataclass(frozen=True)
class Fault:
    service: str
    index: int
    """0-based index of the call among this service's calls since the injector was armed."""
    code: str
    persistent: bool = False
    """Fail every call of the service from `index` on (the service is down), not just one."""

    def __str__(self) -> str:
        tail = "+" if self.persistent else ""
        return f"{self.service}[{self.index}{tail}] {self.code}"


def faults_for(service: str, index: int, operation: str) -> tuple[str, ...]:
    """The faults the battery injects at one call: throttling for DynamoDB, the two codes taking
    turns by call index (the store treats them alike, `test_both_throttling_codes_...` checks
    it), and a conflict for a transaction; unavailability for the others."""
    if service == "dynamodb":
        throttle = THROTTLES[index % 2]
        return (throttle, CONFLICT) if operation == "TransactWriteItems" else (throttle,)
    return (UNAVAILABLE,)


def _error(service: str, code: str, params: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    status = 503 if code == UNAVAILABLE else 400
    parsed: dict[str, Any] = {
        "Error": {"Code": code, "Message": f"injected {code}"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0},
    }
    if code == CONFLICT:
        actions = params.get("TransactItems", [])
        parsed["Error"] = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
        parsed["CancellationReasons"] = [
            {"Code": CONFLICT, "Message": "Transaction is ongoing for the item"}
            if i == 0
            else {"Code": "None"}
            for i in range(len(actions))
        ]
    return AWSResponse(f"https://{service}.injected", status, {}, None), parsed


def _body(request: dict[str, Any]) -> dict[str, Any]:
    """The JSON body of a serialised request (DynamoDB's protocol); {} for the others."""
    body = request.get("body")
    try:
        parsed = json.loads(body) if isinstance(body, (bytes, str)) and body else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@dataclass
class Injector:
    calls: list[tuple[str, str]] = field(default_factory=list)
    """(service, operation) of every call since the last `reset`, injected ones included."""
    injected: list[tuple[str, str, str]] = field(default_factory=list)
    fault: Fault | None = None

    def install(self) -> None:
        for service, factory in SERVICES.items():
            factory().meta.events.register_first(f"before-call.{EVENT_IDS[service]}", self._hook(service))

    def reset(self, fault: Fault | None = None) -> None:
        self.calls.clear()
        self.injected.clear()
        self.fault = fault

    def count(self, service: str) -> int:
        return sum(1 for s, _ in self.calls if s == service)

    def operations(self, service: str) -> list[str]:
        return [op for s, op in self.calls if s == service]

    def _hook(self, service: str) -> Callable[..., Any]:
        def before_call(model: Any, params: dict[str, Any], **_: Any) -> Any:
            index = self.count(service)
            self.calls.append((service, model.name))
            fault = self.fault
            if fault is None or fault.service != service:
                return None
            if index == fault.index or (fault.persistent and index > fault.index):
                self.injected.append((service, model.name, fault.code))
                return _error(service, fault.code, _body(params))
            return None

        return before_call

    @contextmanager
    def armed(self, fault: Fault | None) -> Iterator[None]:
        self.reset(fault)
        try:
            yield
        finally:
            self.fault = None


_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EVENT_ID = re.compile(r"(EVENT#<time>#)\d{12}")
VOLATILE_ATTRIBUTES = frozenset(
    {"queued_at", "start_date", "end_date", "last_heartbeat_at", "timestamp", "fast_path"}
)
"""Present or not by path: Airflow's own writers differ on the dates; `fast_path` marks a
transition the fast path wrote in one transaction, absent when a fault sent it the other way."""


def normalise(value: Any) -> Any:
    """Timestamps and generated ids out, sets sorted: what two equivalent runs agree on."""
    if isinstance(value, str):
        return _EVENT_ID.sub(r"\1<n>", _UUID.sub("<id>", _TIME.sub("<time>", value)))
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items())}
    if isinstance(value, (set, frozenset)):
        return sorted(normalise(v) for v in value)
    if isinstance(value, list):
        return [normalise(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return hashlib.sha256(value).hexdigest()
    return value


_DESERIALIZER = TypeDeserializer()


@dataclass(frozen=True)
class State:
    items: tuple[str, ...]
    objects: tuple[str, ...]
    messages: tuple[str, ...]

    def diff(self, other: State) -> str:
        lines = []
        for name in ("items", "objects", "messages"):
            mine, theirs = set(getattr(self, name)), set(getattr(other, name))
            lines += [f"- {name}: {x}" for x in sorted(mine - theirs)]
            lines += [f"+ {name}: {x}" for x in sorted(theirs - mine)]
            if not lines and len(getattr(self, name)) != len(getattr(other, name)):
                lines.append(f"  {name}: same items, different counts")
        return "\n".join(lines)


class World:
    """The moto resources of the `aws` fixture, with snapshots, stream reading and comparison."""

    def __init__(self, injector: Injector) -> None:
        self.injector = injector
        settings = get_settings()
        self.table_name = settings.table_name
        self.bucket = settings.bucket_name
        self.queue_urls = sorted(set(settings.queue_urls.values()))
        self.ddb = boto3.client("dynamodb")
        self.s3 = boto3.client("s3")
        self.sqs = boto3.client("sqs")
        self._saved_items: list[dict[str, Any]] = []
        self._saved_objects: dict[str, bytes] = {}
        self.poller: StreamPoller | None = None
        self._pending: list[dict[str, Any]] = []
        self.follow_stream()
        self.delivered: list[dict[str, Any]] = []
        """Messages taken off the queues since the last `save` or `restore`."""

    # -- the raw contents -------------------------------------------------------------------
    def scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
        while True:
            page = self.ddb.scan(**kwargs)
            items += page["Items"]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def items(self) -> list[dict[str, Any]]:
        return [{k: _DESERIALIZER.deserialize(v) for k, v in raw.items()} for raw in self.scan()]

    def objects(self) -> dict[str, bytes]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return {o["Key"]: self.s3.get_object(Bucket=self.bucket, Key=o["Key"])["Body"].read() for o in listed}

    def take_messages(self) -> list[dict[str, Any]]:
        """Every visible message of every task queue, removed (and kept in `delivered`)."""
        out = []
        for url in self.queue_urls:
            while True:
                got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
                if not got.get("Messages"):
                    break
                for message in got["Messages"]:
                    out.append(json.loads(message["Body"]))
                    self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        self.delivered += out
        return out

    # -- snapshots --------------------------------------------------------------------------
    def save(self) -> None:
        self._saved_items = self.scan()
        self._saved_objects = self.objects()
        for url in self.queue_urls:
            self.sqs.purge_queue(QueueUrl=url)
        self.delivered = []

    def restore(self) -> None:
        """Back to the saved contents, rewriting only what changed."""
        saved = {(i["PK"]["S"], i["SK"]["S"]): i for i in self._saved_items}
        now = {(i["PK"]["S"], i["SK"]["S"]): i for i in self.scan()}
        for pk, sk in now.keys() - saved.keys():
            self.ddb.delete_item(TableName=self.table_name, Key={"PK": {"S": pk}, "SK": {"S": sk}})
        changed = [item for key, item in saved.items() if now.get(key) != item]
        for start in range(0, len(changed), 25):
            chunk = changed[start : start + 25]
            self.ddb.batch_write_item(
                RequestItems={self.table_name: [{"PutRequest": {"Item": item}} for item in chunk]}
            )
        stored = self.objects()
        if stored or self._saved_objects:
            for key in set(stored) - set(self._saved_objects):
                self.s3.delete_object(Bucket=self.bucket, Key=key)
            for key, body in self._saved_objects.items():
                self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        for url in self.queue_urls:
            self.sqs.purge_queue(QueueUrl=url)
        self.delivered = []
        self.new_records()  # the restore's own records are nobody's business
        self._trim_stream()

    def _trim_stream(self) -> None:
        """Drop the stream records read so far from moto's shard (sequence numbers go on): moto
        deep-copies a table with its whole shard on every TransactWriteItems, so a shard that only
        grows makes every later transaction slower."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[self.table_name].stream_shard
        shard.starting_sequence_number += len(shard.items)
        shard.items = []

    def wipe(self) -> None:
        """Empty table, bucket and queues (between unrelated scenarios)."""
        self._saved_items, self._saved_objects = [], {}
        self.restore()

    # -- the stream -------------------------------------------------------------------------
    def follow_stream(self) -> None:
        """Deliver only records written from now on to `settle`."""
        self.poller = self.stream_poller(self._record_batch)
        self._pending = []

    def stream_poller(self, handler: Callable[[dict[str, Any], Any], Any]) -> StreamPoller:
        return table_stream(handler, batch_size=1000)

    def _record_batch(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self._pending.extend(event["Records"])
        return {"batchItemFailures": []}

    def new_records(self) -> list[dict[str, Any]]:
        """Stream records (as Lambda delivers them) written since `follow_stream` or the last call."""
        assert self.poller is not None
        while self.poller.poll_once():
            pass
        records, self._pending = self._pending, []
        return records

    def settle(self) -> None:
        """What the scheduler does after a request: the stream handler on the records the request
        wrote (and on those it writes itself, until nothing is left), all without faults."""
        from slipstream.handlers.stream import handler

        with self.injector.armed(None):
            for _round in range(10):
                records = self.new_records()
                if not records:
                    return
                result = handler({"Records": records}, LocalContext.invocation("slipstream-stream"))
                assert result == {"batchItemFailures": []}, result
        raise AssertionError("the stream did not settle")

    # -- comparison -------------------------------------------------------------------------
    def state(self, scanned: list[dict[str, Any]] | None = None) -> State:
        """Normalised table (`scanned`, or scanned now), bucket and delivered messages (the queues
        are emptied into `delivered`)."""
        items = []
        for item in self.items() if scanned is None else scanned:
            if item["PK"] == "COUNTER":
                continue  # asset event ids: a retried request draws new ones
            if item.get("kind") == "asset_event":
                item["id"] = "<n>"
            for volatile in VOLATILE_ATTRIBUTES & item.keys():
                del item[volatile]
            items.append(json.dumps(normalise(item), sort_keys=True, default=str))
        objects = [f"{normalise(k)}={hashlib.sha256(v).hexdigest()[:12]}" for k, v in self.objects().items()]
        self.take_messages()
        bodies = [json.dumps(normalise({**m, "token": "<token>"}), sort_keys=True) for m in self.delivered]
        return State(tuple(sorted(items)), tuple(sorted(objects)), tuple(sorted(bodies)))
