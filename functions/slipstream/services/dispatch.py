"""Sending workloads to the task queues (one SQS standard queue per task `queue`)."""

from __future__ import annotations

from typing import Any

from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.services.queueing import encode

MAX_DELAY_SECONDS = 900
"""SQS's own limit on DelaySeconds; longer waits are the timer's job."""


class UnknownQueue(Exception):
    pass


def queue_url(queue: str) -> str:
    urls = get_settings().queue_urls
    url = urls.get(queue) or urls.get("default")
    if not url:
        raise UnknownQueue(f"no SQS queue configured for {queue!r} (SLIPSTREAM_QUEUE_URLS)")
    return url


def send(workload: dict[str, Any], *, delay_seconds: int = 0) -> None:
    aws.sqs().send_message(
        QueueUrl=queue_url(str(workload["ti"].get("queue") or "default")),
        MessageBody=encode(workload),
        DelaySeconds=max(0, min(MAX_DELAY_SECONDS, delay_seconds)),
    )
