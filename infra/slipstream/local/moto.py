"""moto's server on 127.0.0.1 (the local stack's AWS), in-process or as `python -m slipstream.local.moto`.

Both patch moto 5.2.5 first (`prepare_moto`): one flaw, one cost.

The flaw. Its TransactWriteItems deep-copies every table it touches
and, when the transaction is cancelled, puts the copies back: writes that concurrent requests made
meanwhile are lost (moto's server is threaded), the copy brings a new stream shard (a reader's
shard iterator stays on the old one and never sees another record), and every transaction costs
time and memory in proportion to the table and to every stream record it ever produced (a soak
of 2,000 tasks drove moto past 7 GB). DynamoDB serialises conflicting writes and loses none, and
Slipstream's conditional transactions are cancelled routinely (that is how races are decided). So
here DynamoDB and DynamoDB Streams calls are serialised, and a transaction keeps a copy of the
items it names only: cancelled, it puts them back and drops its own stream records.

The cost. moto serialises every response by walking botocore's output shape value by value; for
DynamoDB and its streams that was over half of moto's time on the local stack (a run's Query, a
batch of stream records with both images). Their results are already wire-shaped JSON (attribute
values as `{"S": ...}` maps), so `json.dumps` of the result is the same body: results made of
plain JSON types take that way, anything else (errors, datetimes, bytes, model objects) moto's.
tests/local/test_moto.py checks that clients see the same answers either way.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slipstream.local.processes import Child

OFFLINE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def use_offline_credentials() -> None:
    """Point boto3 at nothing real: placeholder credentials and a region, unless already set."""
    for name, value in OFFLINE_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_moto() -> None:
    """Apply both patches of the module docstring (once per process)."""
    fix_dynamodb_transactions()
    serialise_plain_results_directly()


@functools.cache
def fix_dynamodb_transactions() -> None:
    """Patch moto's DynamoDB as the module docstring says (once per process)."""
    from moto.dynamodb import models, responses
    from moto.dynamodb.models import table as table_models
    from moto.dynamodbstreams import responses as stream_responses

    # Typed as Any: replacing methods of moto's classes is the point.
    backend: Any = models.DynamoDBBackend
    handlers: list[Any] = [responses.DynamoHandler, stream_responses.DynamoDBStreamsHandler]
    lock = threading.RLock()

    def serialised(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(call_action)
        def call(handler: Any) -> Any:
            with lock:
                return call_action(handler)

        return call

    transact_write_items = backend.transact_write_items
    table_class: Any = table_models.Table

    @functools.wraps(transact_write_items)
    def transact_copying_its_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = [_saved_item(self.tables, entry) for entry in transact_items]
        saved_items = [entry for entry in saved if entry is not None]
        shards = {
            table.name: (table, len(table.stream_shard.items))
            for table, *_ in saved_items
            if table.stream_shard is not None
        }
        table_class.__deepcopy__ = lambda table, memo: table  # moto's whole-table backup: no copy
        try:
            transact_write_items(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved_items):
                _put_back(table, hash_key, range_key, item)
            for table, length in shards.values():
                del table.stream_shard.items[length:]
            raise
        finally:
            del table_class.__deepcopy__

    for handler in handlers:
        handler.call_action = serialised(handler.call_action)
    backend.transact_write_items = transact_copying_its_items


_DIRECT_SERVICES = {"dynamodb": "application/x-amz-json-1.0", "dynamodbstreams": "application/x-amz-json-1.0"}
"""Services whose plain results are serialised with `json.dumps`, with their response content type."""


@functools.cache
def serialise_plain_results_directly() -> None:
    """Patch moto's response serialisation as the module docstring says (once per process)."""
    from moto.core import responses

    # Typed as Any: replacing a method of moto's class is the point.
    base: Any = responses.BaseResponse
    serialized = base.serialized
    execute_result = responses.ActionResult.execute_result

    @functools.wraps(serialized)
    def serialized_directly(self: Any, result: Any) -> Any:
        content_type = _DIRECT_SERVICES.get(self.boto3_service_name)
        if (
            content_type is None
            or type(result).execute_result is not execute_result  # paginated, empty: moto's way
            or not _plain(result.result)
        ):
            return serialized(self, result)
        return 200, {"Content-Type": content_type, **self.response_headers}, json.dumps(result.result)

    base.serialized = serialized_directly


def _plain(value: Any) -> bool:
    """Whether `value` is a dict made of JSON's own types only (what json.dumps writes as is)."""
    if not isinstance(value, dict):
        return False
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif item is not None and type(item) not in (str, int, float, bool):
            return False
    return True


def _saved_item(tables: dict[str, Any], entry: dict[str, Any]) -> tuple[Any, Any, Any, Any] | None:
    """(table, hash key, range key, a copy of the item or None) for one transaction action."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    ((_, op),) = entry.items()
    table = tables.get(op.get("TableName"))
    if table is None:
        return None
    key = op.get("Key") or op.get("Item") or {}
    if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
        return None  # moto refuses it before writing anything
    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    return table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items[hash_key].pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """Run moto's server in a thread; AWS_ENDPOINT_URL points this process's boto3 at it."""
    from moto.server import ThreadedMotoServer

    from slipstream.auth.keys import forget_keys
    from slipstream.core import aws

    prepare_moto()
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    previous = os.environ.get("AWS_ENDPOINT_URL")
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    aws.reset()
    forget_keys()
    try:
        yield endpoint
    finally:
        if previous is None:
            os.environ.pop("AWS_ENDPOINT_URL", None)
        else:
            os.environ["AWS_ENDPOINT_URL"] = previous
        aws.reset()
        forget_keys()
        server.stop()


@dataclass(frozen=True)
class MotoProcess:
    endpoint: str
    child: Child


@contextmanager
def moto_process(log_file: Path, stop_timeout: float = 10.0) -> Iterator[MotoProcess]:
    """moto's server as a child process, empty, as the local stack runs it: AWS is then another
    process, as it is another machine on AWS, and its work does not take turns on this process's
    GIL with the handlers that call it."""
    from slipstream.local.processes import Child, stop_all, wait_for_port

    port = free_port()
    argv = [sys.executable, "-m", "slipstream.local.moto", "-H", "127.0.0.1", "-p", str(port)]
    child = Child("moto", argv, os.environ, log_file)
    try:
        wait_for_port(port, child)
        yield MotoProcess(f"http://127.0.0.1:{port}", child)
    finally:
        stop_all([child], stop_timeout)


if __name__ == "__main__":
    from moto.server import main

    prepare_moto()
    main(sys.argv[1:])
