"""Sending workloads to the task queues (one SQS standard queue per task `queue`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.core import aws
from slipstream.core.logging import logger
from slipstream.core.settings import get_settings
from slipstream.services.queueing import encode
from slipstream.store.codec import fmt_time, utcnow
from slipstream.store.task_instances import TaskInstances

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


def send_or_resend_soon(workload: dict[str, Any], *, delay_seconds: int = 0) -> None:
    """Send a queued TI's workload. If SQS refuses it (after botocore's own retries), the TI is
    made due for the timer's resend sweep at its first tick after the delay, instead of
    `SLIPSTREAM_QUEUED_RESEND_SECONDS` after it. Never raises: the TI is queued already, and the
    sweep resends it in any case."""
    try:
        send(workload, delay_seconds=delay_seconds)
    except Exception:
        logger.exception("sending a workload failed; the timer's next sweep sends it", extra=_ti_of(workload))
        _resend_soon(workload, delay_seconds)


def _resend_soon(workload: dict[str, Any], delay_seconds: int) -> None:
    """Back-date the TI's message, by the resend period, to when it would have become visible."""
    ti = workload["ti"]
    key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"], int(ti.get("map_index", -1)))
    due = utcnow() + timedelta(seconds=delay_seconds - get_settings().queued_resend_seconds - 1)
    try:
        TaskInstances().resend_due(key, ti["id"], fmt_time(due))  # False: started or moved on
    except Exception:
        logger.exception("could not mark a TI for an early resend", extra=_ti_of(workload))


def _ti_of(workload: dict[str, Any]) -> dict[str, Any]:
    return {"ti_id": workload["ti"]["id"]}
