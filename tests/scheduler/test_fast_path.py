"""`/state`'s fast path: a transition and everything it makes ready in one transaction, which a
concurrent transition it depended on sends the long way (plain write, then `schedule_run`).

Each test runs twice: as one API instance that serves the whole run, and so plans from its
snapshot of the run (`run_snapshots`), and as a fresh instance per request, which reads the run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from slipstream.auth.tokens import TIKey
from slipstream.bench.counting import CallCounter
from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.local.seed import register_dag, start_run
from slipstream.scheduler.stream import job_for
from slipstream.services import runs
from slipstream.services.run_snapshots import RunSnapshots, snapshots
from slipstream.services.scheduling import FAST_PATH, schedule_run
from slipstream.store.task_instances import TaskInstances
from tests.scheduler.conftest import Queue, run_state, run_task, states
from tests.support import env


@pytest.fixture(params=["one instance", "an instance per request"])
def remembered(request: pytest.FixtureRequest, queue: Queue) -> Iterator[bool]:
    """True when the API instance remembers the run between requests."""
    if request.param == "one instance":
        yield True
        return
    with env(SLIPSTREAM_RUN_SNAPSHOTS="0"):
        get_settings.cache_clear()
        yield False
    get_settings.cache_clear()


@contextmanager
def _elsewhere(dag_id: str, run_id: str) -> Iterator[None]:
    """What runs inside happens on another API instance: this one's snapshot stays as it was."""
    known = snapshots.get(dag_id, run_id)
    yield
    snapshots.forget(dag_id, run_id)
    if known is not None:
        snapshots.put(*known)


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


def _operations(action: Callable[[], None]) -> list[str]:
    """The DynamoDB operations `action` makes, in order."""
    counter = CallCounter()
    counter.attach(aws.dynamodb())
    action()
    return counter.operations


FAN_IN = [
    {"task_id": "a", "upstream": []},
    {"task_id": "b", "upstream": []},
    {"task_id": "c", "upstream": ["a", "b"]},
]
PAIR = [{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": []}]


def _a_and_b_running(queue: Queue, dag_id: str, tasks: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    """A run of `tasks` whose trigger queued a and b, both now running: its id and workloads."""
    register_dag(dag_id, tasks=tasks)
    run_id = start_run(dag_id)["run_id"]
    workloads = {w["ti"]["task_id"]: w for w in queue.take()}
    run_task(workloads["a"], "running")
    run_task(workloads["b"], "running")
    return run_id, workloads


def _item(dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    item = TaskInstances().get(TIKey(dag_id, run_id, task_id))
    assert item is not None
    return item


def test_a_success_queues_its_downstream_in_the_same_transaction(queue: Queue, remembered: bool) -> None:
    register_dag("chain", tasks=[{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": ["a"]}])
    run_id = start_run("chain")["run_id"]
    schedule_run("chain", run_id)
    [a] = queue.take()
    run_task(a, "running")
    before = _item("chain", run_id, "a")
    operations = _operations(lambda: run_task(a, "success", start=False))

    assert operations == (["TransactWriteItems"] if remembered else ["Query", "TransactWriteItems"])
    assert [w["ti"]["task_id"] for w in queue.take()] == ["b"]
    after = _item("chain", run_id, "a")
    assert after[FAST_PATH]
    # the stream sees the record and knows its consequences are written already
    assert job_for("MODIFY", after, before, after) is None
    [b] = [_item("chain", run_id, "b")]
    assert b["state"] == "queued"


def test_the_last_success_ends_the_run_in_the_same_transaction(queue: Queue, remembered: bool) -> None:
    register_dag("single", tasks=[{"task_id": "only", "upstream": []}])
    run_id = start_run("single")["run_id"]
    schedule_run("single", run_id)
    [only] = queue.take()
    run_task(only, "running")
    operations = _operations(lambda: run_task(only, "success", start=False))

    assert operations == (["TransactWriteItems"] if remembered else ["Query", "TransactWriteItems"])
    assert run_state("single", run_id) == "success"
    assert snapshots.get("single", run_id) is None  # an ended run is not kept


def test_a_concurrent_upstream_success_is_never_missed(queue: Queue, remembered: bool) -> None:
    """a and b both feed c. b's own fast path commits between a's plan and a's transaction, each
    having seen the other running: a's transaction must fail on b's changed state (else both
    records would be skipped by the stream and c never queued). Having read the run, a takes the
    long way; planning from its snapshot, it plans again from the items the refusal returned."""
    run_id, workloads = _a_and_b_running(queue, "fan_in", FAN_IN)
    with _before_the_first_transaction(lambda: run_task(workloads["b"], "success", start=False)) as raced:
        run_task(workloads["a"], "success", start=False)  # b read a running, and committed first

    assert raced
    assert [w["ti"]["task_id"] for w in queue.take()] == ["c"]
    assert states("fan_in", run_id) == {"a": "success", "b": "success", "c": "queued"}
    assert _item("fan_in", run_id, "b")[FAST_PATH]  # b's fast path won
    if remembered:  # a planned again with b's success, and queued c
        assert _item("fan_in", run_id, "a")[FAST_PATH]
    else:  # a went the long way: the stream evaluates it
        assert FAST_PATH not in _item("fan_in", run_id, "a")


def test_two_last_tasks_settling_at_once_still_end_the_run(queue: Queue, remembered: bool) -> None:
    """a and b are the run's only tasks; each one's fast path reads the other running. Were both
    written, neither would end the run and the stream would skip both records."""
    run_id, workloads = _a_and_b_running(queue, "pair", PAIR)
    with _before_the_first_transaction(lambda: run_task(workloads["b"], "success", start=False)) as raced:
        run_task(workloads["a"], "success", start=False)

    assert raced
    assert run_state("pair", run_id) == "success"


def test_a_stale_snapshot_is_planned_again_from_what_the_refusal_returned(queue: Queue) -> None:
    """b ended on another instance: this one's snapshot still has b running. a's first plan
    waits for b, the check on b refuses it, and the second plan, with b's item as the refusal
    returned it, queues c. Two transactions, no read."""
    run_id, workloads = _a_and_b_running(queue, "fan_in", FAN_IN)
    with _elsewhere("fan_in", run_id):
        run_task(workloads["b"], "success", start=False)
    operations = _operations(lambda: run_task(workloads["a"], "success", start=False))

    assert operations == ["TransactWriteItems", "TransactWriteItems"]
    assert [w["ti"]["task_id"] for w in queue.take()] == ["c"]
    assert states("fan_in", run_id) == {"a": "success", "b": "success", "c": "queued"}


def test_a_snapshot_that_missed_a_retry_is_not_used(queue: Queue) -> None:
    """a failed and was retried on another instance: the snapshot knows a's first try only, so
    the second try's end reads the run."""
    register_dag(
        "chain",
        tasks=[
            {"task_id": "a", "upstream": [], "retries": 1, "retry_delay": 0},
            {"task_id": "b", "upstream": ["a"]},
        ],
    )
    run_id = start_run("chain")["run_id"]
    [first] = queue.take()
    run_task(first, "running")
    with _elsewhere("chain", run_id):
        run_task(first, "up_for_retry", start=False)
        [second] = queue.take()
    run_task(second, "running")
    operations = _operations(lambda: run_task(second, "success", start=False))

    assert operations == ["Query", "TransactWriteItems"]
    assert [w["ti"]["task_id"] for w in queue.take()] == ["b"]


def test_a_run_cleared_since_the_snapshot_queues_nothing_with_the_old_run(queue: Queue) -> None:
    """c was cleared on another instance while a ran (the run went back to queued, then started
    again with clear_number 1). The snapshot's plan queues b with the run as it knew it; the run's
    condition refuses it, and b is queued with the run as it is."""
    register_dag(
        "cleared",
        tasks=[
            {"task_id": "a", "upstream": []},
            {"task_id": "b", "upstream": ["a"]},
            {"task_id": "c", "upstream": []},
        ],
    )
    run_id = start_run("cleared")["run_id"]
    workloads = {w["ti"]["task_id"]: w for w in queue.take()}
    run_task(workloads["a"], "running")
    run_task(workloads["c"], "success")
    with _elsewhere("cleared", run_id):
        runs.clear("cleared", run_id, task_ids={"c"})
        schedule_run("cleared", run_id)
        assert [w["ti"]["task_id"] for w in queue.take()] == ["c"]

    run_task(workloads["a"], "success", start=False)

    [b] = queue.take()
    assert b["ti"]["task_id"] == "b"
    assert json.loads(_item("cleared", run_id, "b")["dag_run"])["clear_number"] == 1
    assert run_state("cleared", run_id) == "running"


def test_a_run_does_not_end_on_a_snapshot_that_missed_a_clear(queue: Queue) -> None:
    """a and b are the run's tasks; b succeeded, then was cleared on another instance and the run
    started again. Ending a, the snapshot sees every task done; the run's end reads every TI, and
    b's new try keeps the run going."""
    run_id, workloads = _a_and_b_running(queue, "pair", PAIR)
    run_task(workloads["b"], "success", start=False)
    with _elsewhere("pair", run_id):
        runs.clear("pair", run_id, task_ids={"b"})
        schedule_run("pair", run_id)

    run_task(workloads["a"], "success", start=False)

    assert run_state("pair", run_id) == "running"
    assert states("pair", run_id) == {"a": "success", "b": "queued"}


def test_a_run_with_more_tasks_than_it_may_run_at_once_is_read(queue: Queue) -> None:
    """A remembered count of active TIs could be short: over max_active_tasks the run is read."""
    tasks = [{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": ["a"]}]
    register_dag("narrow", tasks=tasks, max_active_tasks=1)
    start_run("narrow")
    [a] = queue.take()
    run_task(a, "running")
    operations = _operations(lambda: run_task(a, "success", start=False))

    assert operations == ["Query", "TransactWriteItems"]
    assert [w["ti"]["task_id"] for w in queue.take()] == ["b"]


def test_snapshots_keep_the_most_recently_used_runs(aws: None) -> None:
    kept = RunSnapshots()
    with env(SLIPSTREAM_RUN_SNAPSHOTS="2"):
        get_settings.cache_clear()
        for run_id in ("r1", "r2"):
            kept.put({"dag_id": "d", "run_id": run_id}, [])
        assert kept.get("d", "r1") is not None  # r1 is now the most recent
        kept.put({"dag_id": "d", "run_id": "r3"}, [])
    get_settings.cache_clear()

    assert kept.get("d", "r2") is None
    assert kept.get("d", "r1") is not None and kept.get("d", "r3") is not None
