"""botocore clients, built on first use and reused for the life of the process.

Nothing here runs at import time: a Lambda cold start pays for botocore only when a request needs
AWS, and each client is created once per execution environment. The clients are botocore's own:
boto3 adds resources and S3 transfers, which nothing here uses, and its imports to a cold start.
Only Powertools' parameters utility imports boto3, when the API function first reads its signing
keys (`slipstream.auth.keys`); the stream and timer functions never do. `AWS_ENDPOINT_URL` (moto's
server in the local stack) is honoured by botocore itself.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


Service = Literal["dynamodb", "s3", "sqs", "secretsmanager"]
SERVICES: tuple[Service, ...] = get_args(Service)
"""Every service the functions call. `make sam-build` ships botocore's models for these only."""

_lock = threading.Lock()


@cache
def _session() -> Any:
    """One session for every client: its loader reads botocore's endpoint and model files once
    (a second client of its own session costs about 60 ms more on a cold start)."""
    from botocore.session import get_session

    return get_session()


def _client(service: Service) -> Any:
    from botocore.config import Config

    config = Config(retries={"max_attempts": 3, "mode": "standard"}, tcp_keepalive=True)
    with _lock:  # a session is not safe to create clients from on several threads at once
        return _session().create_client(service, config=config)


@cache
def dynamodb() -> DynamoDBClient:
    return _client("dynamodb")  # type: ignore[no-any-return]


@cache
def s3() -> S3Client:
    return _client("s3")  # type: ignore[no-any-return]


@cache
def sqs() -> SQSClient:
    return _client("sqs")  # type: ignore[no-any-return]


@cache
def secretsmanager() -> SecretsManagerClient:
    return _client("secretsmanager")  # type: ignore[no-any-return]


def reset() -> None:
    """Forget every client (tests switch endpoints; SnapStart restores need fresh connections)."""
    for factory in (dynamodb, s3, sqs, secretsmanager, _session):
        factory.cache_clear()
