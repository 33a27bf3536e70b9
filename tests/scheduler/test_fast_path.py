"""`/state`'s fast path: a transition and everything it makes ready in one transaction, which a
concurrent transition it depended on sends the long way (plain write, then `schedule_run`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.bench.counting import CallCounter
from slipstream.core import aws
from slipstream.local.seed import register_dag, start_run
from slipstream.scheduler.stream import job_for
from slipstream.services.scheduling import FAST_PATH, schedule_run
from slipstream.store.task_instances import TaskInstances
from tests.scheduler.conftest import Queue, run_state, run_task, states


@contextmanager
def _before_the_first_transaction(action: Callable[[], None]) -> Iterator[list[bool]]:
    """Run `action` between the first fast path's read and its transaction (once: `action`'s own
    transaction passes through); the list yielded holds True once it ran."""
    client = aws.dynamodb()
    raced: list[bool] = []

    def race(**_: Any) -> None:
        if not raced:
            raced.append(True)
            action()

    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", race)
    try:
        yield raced
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", race)


def _item(dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    item = TaskInstances().get(TIKey(dag_id, run_id, task_id))
    assert item is not None
    return item


def test_a_success_queues_its_downstream_in_the_same_transaction(queue: Queue) -> None:
    register_dag("chain", tasks=[{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": ["a"]}])
    run_id = start_run("chain")["run_id"]
    schedule_run("chain", run_id)
    [a] = queue.take()
    run_task(a, "running")
    before = _item("chain", run_id, "a")
    counter = CallCounter()
    counter.attach(aws.dynamodb())

    run_task(a, "success", start=False)

    assert counter.operations == ["Query", "TransactWriteItems"]
    assert [w["ti"]["task_id"] for w in queue.take()] == ["b"]
    after = _item("chain", run_id, "a")
    assert after[FAST_PATH]
    # the stream sees the record and knows its consequences are written already
    assert job_for("MODIFY", after, before, after) is None
    [b] = [_item("chain", run_id, "b")]
    assert b["state"] == "queued"


def test_the_last_success_ends_the_run_in_the_same_transaction(queue: Queue) -> None:
    register_dag("single", tasks=[{"task_id": "only", "upstream": []}])
    run_id = start_run("single")["run_id"]
    schedule_run("single", run_id)
    [only] = queue.take()
    run_task(only, "running")
    counter = CallCounter()
    counter.attach(aws.dynamodb())

    run_task(only, "success", start=False)

    assert counter.operations[:2] == ["Query", "TransactWriteItems"]
    assert run_state("single", run_id) == "success"


def test_a_concurrent_upstream_success_is_never_missed(queue: Queue) -> None:
    """a and b both feed c. b's own fast path commits between a's read and a's transaction, each
    having seen the other running: a's transaction must fail on b's changed state (else both
    records would be skipped by the stream and c never queued) and take the long way."""
    register_dag(
        "fan_in",
        tasks=[
            {"task_id": "a", "upstream": []},
            {"task_id": "b", "upstream": []},
            {"task_id": "c", "upstream": ["a", "b"]},
        ],
    )
    run_id = start_run("fan_in")["run_id"]
    schedule_run("fan_in", run_id)
    workloads = {w["ti"]["task_id"]: w for w in queue.take()}
    run_task(workloads["a"], "running")
    run_task(workloads["b"], "running")
    with _before_the_first_transaction(lambda: run_task(workloads["b"], "success", start=False)) as raced:
        run_task(workloads["a"], "success", start=False)  # b read a running, and committed first

    assert raced
    assert [w["ti"]["task_id"] for w in queue.take()] == ["c"]
    assert states("fan_in", run_id) == {"a": "success", "b": "success", "c": "queued"}
    assert _item("fan_in", run_id, "b")[FAST_PATH]  # b's fast path won
    assert FAST_PATH not in _item("fan_in", run_id, "a")  # a's went the long way: the stream evaluates it


def test_two_last_tasks_settling_at_once_still_end_the_run(queue: Queue) -> None:
    """a and b are the run's only tasks; each one's fast path reads the other running. Were both
    written, neither would end the run and the stream would skip both records."""
    register_dag("pair", tasks=[{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": []}])
    run_id = start_run("pair")["run_id"]
    workloads = {w["ti"]["task_id"]: w for w in queue.take()}
    run_task(workloads["a"], "running")
    run_task(workloads["b"], "running")
    with _before_the_first_transaction(lambda: run_task(workloads["b"], "success", start=False)) as raced:
        run_task(workloads["a"], "success", start=False)

    assert raced
    assert run_state("pair", run_id) == "success"
