"""Sending workloads to the task queues (one SQS standard queue per task `queue`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slipstream.core import aws
from slipstream.core.logging import logger
from slipstream.core.settings import get_settings
from slipstream.services.queueing import encode
from slipstream.store import keys
from slipstream.store.codec import fmt_time, utcnow
from slipstream.store.table import ConditionFailed, Table, values

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
    """Back-date the TI's GSI2 sort key (when its message becomes visible) by the resend period."""
    ti = workload["ti"]
    due = utcnow() + timedelta(seconds=delay_seconds - get_settings().queued_resend_seconds - 1)
    try:
        Table().update(
            keys.run_pk(ti["dag_id"], ti["run_id"]),
            keys.ti_sk(ti["task_id"], int(ti.get("map_index", -1))),
            "SET GSI2SK = :due",
            condition="#id = :id AND #state = :queued",
            names={"#id": "id", "#state": "state"},
            values=values(due=fmt_time(due), id=ti["id"], queued="queued"),
        )
    except ConditionFailed:
        pass  # started or moved on meanwhile: nothing to resend
    except Exception:
        logger.exception("could not mark a TI for an early resend", extra=_ti_of(workload))


def _ti_of(workload: dict[str, Any]) -> dict[str, Any]:
    return {"ti_id": workload["ti"]["id"]}
