"""moto's server on 127.0.0.1 (the local stack's AWS), in-process or as `python -m slipstream.local.moto`.

Both fix one flaw of moto 5.2.5 first. Its TransactWriteItems deep-copies every table it touches
and, when the transaction is cancelled, puts the copies back: writes that concurrent requests made
meanwhile are lost (moto's server is threaded), and the copy brings a new stream shard, so a
reader's shard iterator stays on the old one and never sees another record. DynamoDB serialises
conflicting writes and loses none, and Slipstream's conditional transactions are cancelled
routinely (that is how races are decided). So here DynamoDB and DynamoDB Streams calls are
serialised, and a cancelled transaction leaves the table its stream shard, minus its own records.
"""

from __future__ import annotations

import functools
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

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


@functools.cache
def fix_dynamodb_transactions() -> None:
    """Patch moto's DynamoDB as the module docstring says (once per process)."""
    from moto.dynamodb import models, responses
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

    @functools.wraps(transact_write_items)
    def transact_keeping_streams(self: Any, transact_items: list[dict[str, Any]]) -> None:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            transact_write_items(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                restored = self.tables.get(name)
                if restored is not None and restored.stream_shard is not shard:
                    del shard.items[length:]
                    shard.table, restored.stream_shard = restored, shard
            raise

    for handler in handlers:
        handler.call_action = serialised(handler.call_action)
    backend.transact_write_items = transact_keeping_streams


@contextmanager
def moto_server(port: int | None = None) -> Iterator[str]:
    """Run moto's server in a thread; AWS_ENDPOINT_URL points this process's boto3 at it."""
    from moto.server import ThreadedMotoServer

    from slipstream.auth.keys import forget_keys
    from slipstream.core import aws

    fix_dynamodb_transactions()
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


if __name__ == "__main__":
    from moto.server import main

    fix_dynamodb_transactions()
    main(sys.argv[1:])
