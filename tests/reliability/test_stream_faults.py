"""A scheduler stream batch that fails halfway: the failed records are reported, the batch is
retried, and nothing is queued twice.

The batch is real: moto's stream records of three runs (of three DAGs) being created queued
(run and TI inserts), as the event source mapping delivers them. Processing fails at record k
(the second run's insert) by an injected DynamoDB throttle or SQS 503 at that record's first
call, once or from there on (the service is down). A DynamoDB fault fails the record: the
handler must report exactly the failed records, as Powertools' batch processor does; then the
batch is delivered again, whole (a function error) or from the first failed record (what Lambda
does with `ReportBatchItemFailures`). An SQS fault fails no record: the TI is queued already and
due for the timer's next sweep. Either way every ready TI must end up queued exactly once with
exactly one message.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from slipstream.handlers.stream import handler
from slipstream.local.events import LocalContext
from slipstream.local.seed import register_dag, start_run
from slipstream.scheduler import timer
from slipstream.store.codec import utcnow
from slipstream.store.dags import Dags
from tests.reliability.faults import THROTTLES, UNAVAILABLE, Fault, World

RUNS = ("r0", "r1", "r2")
READY = {(run, task) for run in RUNS for task in ("a", "b")}


def _invoke(records: list[dict[str, Any]]) -> dict[str, Any]:
    return dict(handler({"Records": records}, LocalContext.invocation("slipstream-stream")))


def _seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _key(message: dict[str, Any]) -> tuple[str, str]:
    return message["ti"]["run_id"], message["ti"]["task_id"]


def _queued_once(world: World) -> None:
    """Each ready TI queued, first try, and exactly one message for each."""
    tis = {(i["run_id"], i["task_id"]): i for i in world.items() if i["SK"].startswith("RUN#TI#")}
    assert {k for k, ti in tis.items() if ti.get("state") == "queued"} == READY
    assert all(int(tis[k]["try_number"]) == 1 for k in READY)
    assert tis[("r0", "c")].get("state") is None
    world.take_messages()
    sent = Counter(_key(m) for m in world.delivered)
    if set(sent) != READY:
        # A send SQS refused after its TI was queued: the TI was made due for the timer's next
        # sweep (not after `queued_resend_seconds`), which sends it again. By then the TIs whose
        # message arrived have started: only the lost ones count.
        lost = READY - set(sent)
        with world.injector.armed(None):
            timer.resend_lost(utcnow())
        resent = world.take_messages()
        world.delivered = [m for m in world.delivered if m not in resent or _key(m) in lost]
        sent = Counter(_key(m) for m in world.delivered)
    assert sent == Counter(READY)
    assert all(m["ti"]["id"] == tis[_key(m)]["id"] for m in world.delivered)


@pytest.fixture
def batch(world: World) -> list[dict[str, Any]]:
    """One run of each of three paused DAGs (created queued: a trigger with a free slot starts
    its run itself), unpaused before the batch is handled; the unpause records are left out of
    it. Three DAGs, because the first record of a DAG's waiting runs starts them all."""
    tasks = [{"task_id": "a"}, {"task_id": "b"}, {"task_id": "c", "upstream": ["a"]}]
    for run_id in RUNS:
        register_dag(f"fan-{run_id}", tasks=tasks)
        Dags().set_paused(f"fan-{run_id}", True)
    world.new_records()
    for run_id in RUNS:
        start_run(f"fan-{run_id}", run_id=run_id)
    records = world.new_records()
    for run_id in RUNS:
        Dags().set_paused(f"fan-{run_id}", False)
    world.new_records()
    world.save()
    return records


@pytest.mark.parametrize(
    ("service", "code", "persistent"),
    [
        ("dynamodb", THROTTLES[0], False),
        ("dynamodb", THROTTLES[1], True),
        ("sqs", UNAVAILABLE, False),
        ("sqs", UNAVAILABLE, True),
    ],
)
def test_a_batch_failing_at_record_k_reports_it_and_a_redelivery_queues_each_task_once(
    world: World, batch: list[dict[str, Any]], service: str, code: str, persistent: bool
) -> None:
    injector = world.injector
    # The fault-free twin, record by record: which calls each record makes.
    world.restore()
    calls = []
    for record in batch:
        with injector.armed(None):
            assert _invoke([record]) == {"batchItemFailures": []}
        calls.append((injector.count("dynamodb"), injector.count("sqs")))
    _queued_once(world)
    scheduling = [i for i, c in enumerate(calls) if c != (0, 0)]
    assert len(scheduling) == len(RUNS)  # the run inserts; TI inserts cost nothing
    k = scheduling[1]
    first_call = sum(c[0 if service == "dynamodb" else 1] for c in calls[:k])

    # A refused send fails no record (its TI is queued; the timer's next sweep sends it again).
    failed = [i for i in scheduling if i >= k] if persistent else [k]
    failed = [] if service == "sqs" else failed
    for whole in (True, False):
        world.restore()
        with injector.armed(Fault(service, first_call, code, persistent=persistent)):
            result = _invoke(batch)
        assert injector.injected
        assert result == {"batchItemFailures": [{"itemIdentifier": _seq(batch[i])} for i in failed]}
        # Redelivered whole (as after a function error), or from the first failed record (what
        # Lambda does with ReportBatchItemFailures).
        with injector.armed(None):
            again = batch if whole else batch[failed[0] if failed else k :]
            assert _invoke(again) == {"batchItemFailures": []}
        _queued_once(world)
