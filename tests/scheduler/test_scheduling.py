"""Scheduling runs end to end through the services: order, rules, retries, fail_fast, run states,
max_active_runs, and that nothing is ever queued twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slipstream.local.seed import register_dag, start_run
from slipstream.services.scheduling import retry_delay, schedule_run
from slipstream.store.codec import utcnow
from tests.scheduler.conftest import Queue, Stream, run_state, run_task, states


def _t(task_id: str, *upstream: str, **extra: object) -> dict[str, object]:
    return {"task_id": task_id, "upstream": list(upstream), **extra}


DIAMOND = [_t("extract"), _t("left", "extract"), _t("right", "extract"), _t("load", "left", "right")]


def test_diamond_runs_in_topological_order(queue: Queue) -> None:
    register_dag("diamond", tasks=DIAMOND)
    run_id = start_run("diamond")["run_id"]
    schedule_run("diamond", run_id)
    order: list[list[str]] = []
    while batch := queue.take():
        order.append(sorted(w["ti"]["task_id"] for w in batch))
        for workload in batch:
            run_task(workload)
    assert order == [["extract"], ["left", "right"], ["load"]]
    assert run_state("diamond", run_id) == "success"
    assert set(states("diamond", run_id).values()) == {"success"}


def test_a_ti_is_never_queued_twice(queue: Queue) -> None:
    register_dag("dupes", tasks=[_t("a"), _t("b", "a")])
    run_id = start_run("dupes")["run_id"]
    for _ in range(3):
        schedule_run("dupes", run_id)
    [first] = queue.take()
    run_task(first)
    for _ in range(3):  # the stream handler and the timer racing the fast path
        schedule_run("dupes", run_id)
    assert [w["ti"]["task_id"] for w in queue.take()] == ["b"]


def test_failure_propagates_as_upstream_failed_and_the_run_fails(queue: Queue) -> None:
    register_dag(
        "fails", tasks=[_t("a"), _t("b", "a"), _t("c", "b"), _t("cleanup", "b", trigger_rule="all_done")]
    )
    run_id = start_run("fails")["run_id"]
    schedule_run("fails", run_id)
    run_task(queue.take()[0], "failed")
    assert states("fails", run_id) == {
        "a": "failed",
        "b": "upstream_failed",
        "c": "upstream_failed",
        "cleanup": "queued",
    }
    run_task(queue.take()[0])
    assert run_state("fails", run_id) == "failed"


def test_branch_skips_propagate_and_join_runs_with_none_failed_min_one_success(queue: Queue) -> None:
    register_dag(
        "branch",
        tasks=[
            _t("pick"),
            _t("fast", "pick"),
            _t("slow", "pick"),
            _t("after_slow", "slow"),
            _t("join", "fast", "after_slow", trigger_rule="none_failed_min_one_success"),
        ],
    )
    run_id = start_run("branch")["run_id"]
    schedule_run("branch", run_id)
    [pick] = queue.take()
    from slipstream.store.task_instances import TaskInstances

    TaskInstances().skip("branch", run_id, "slow", -1, "2026-07-01T12:00:00.000000Z")
    run_task(pick)
    assert states("branch", run_id)["after_slow"] == "skipped"
    [fast] = queue.take()
    assert fast["ti"]["task_id"] == "fast"
    run_task(fast)
    [join] = queue.take()
    run_task(join)
    assert run_state("branch", run_id) == "success"


def test_retry_gets_a_new_id_and_keeps_the_try_in_history(queue: Queue) -> None:
    register_dag("retry", tasks=[_t("flaky", retries=2, retry_delay=0)])
    run_id = start_run("retry")["run_id"]
    schedule_run("retry", run_id)
    [first] = queue.take()
    assert first["ti"]["try_number"] == 1
    run_task(first, "up_for_retry")
    [second] = queue.take()
    assert second["ti"]["try_number"] == 2
    assert second["ti"]["id"] != first["ti"]["id"]
    run_task(second)
    assert run_state("retry", run_id) == "success"
    from slipstream.store import keys
    from slipstream.store.table import Table

    history = Table().query(keys.run_pk("retry", run_id), prefix=keys.TRY_PREFIX)
    assert [(h["id"], h["state"], h["try_number"]) for h in history] == [
        (first["ti"]["id"], "up_for_retry", 1)
    ]


def test_retry_delays_grow_exponentially_and_are_capped() -> None:
    task = {"retry_delay": 10, "retry_exponential_backoff": True, "max_retry_delay": 60}
    assert [retry_delay(task, {"try_number": n}) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert retry_delay({"retry_delay": 10}, {"try_number": 3}) == 10
    assert retry_delay(task, {"try_number": 3, "retry_delay_override": 2.5}) == 2.5
    assert retry_delay({}, {"try_number": 1}) == 300


def test_long_retry_delays_wait_for_their_time(queue: Queue) -> None:
    register_dag("slow_retry", tasks=[_t("t", retries=1, retry_delay=3600)])
    run_id = start_run("slow_retry")["run_id"]
    schedule_run("slow_retry", run_id)
    run_task(queue.take()[0], "up_for_retry")
    assert queue.take() == []  # an hour away: beyond what SQS can delay
    assert states("slow_retry", run_id)["t"] == "up_for_retry"
    schedule_run("slow_retry", run_id, now=utcnow() + timedelta(minutes=50))
    assert states("slow_retry", run_id)["t"] == "queued"


def test_fail_fast_run_fails_and_stops_the_rest(queue: Queue) -> None:
    register_dag("ff", fail_fast=True, tasks=[_t("a"), _t("b"), _t("c", "a")])
    run_id = start_run("ff")["run_id"]
    schedule_run("ff", run_id)
    by_task = {w["ti"]["task_id"]: w for w in queue.take()}
    run_task(by_task["b"], "running")
    run_task(by_task["a"], "failed")
    assert states("ff", run_id) == {"a": "failed", "b": "failed", "c": "skipped"}
    assert run_state("ff", run_id) == "failed"


def test_max_active_runs_holds_later_runs_until_a_slot_frees(queue: Queue, stream: Stream) -> None:
    register_dag("one_at_a_time", tasks=[_t("t")], max_active_runs=1)
    first = start_run("one_at_a_time", run_id="first")["run_id"]
    second = start_run("one_at_a_time", run_id="second")["run_id"]
    schedule_run("one_at_a_time", first)
    schedule_run("one_at_a_time", second)
    assert run_state("one_at_a_time", second) == "queued"
    [only] = queue.take()
    assert only["ti"]["run_id"] == "first"
    run_task(only)
    assert run_state("one_at_a_time", first) == "success"
    # the task's /state ended the run and gave its slot back; the DAG item's record starts the next
    assert run_state("one_at_a_time", second) == "queued"
    stream.deliver()
    assert run_state("one_at_a_time", second) == "running"
    assert [w["ti"]["run_id"] for w in queue.take()] == ["second"]


def test_a_freed_slot_starts_as_many_waiting_runs_as_it_can(queue: Queue, stream: Stream) -> None:
    from slipstream.services.scheduling import start_waiting_runs
    from slipstream.store.dag_runs import DagRuns

    register_dag("pair", tasks=[_t("t")], max_active_runs=2)
    for run_id in ("a", "b", "c", "d", "e"):
        start_run("pair", run_id=run_id)
    assert DagRuns().waiting("pair") == ["c", "d", "e"]
    for workload in queue.take():
        run_task(workload)  # a and b end in one batch of records
    stream.deliver()
    assert [run_state("pair", r) for r in "abcde"] == ["success", "success", "running", "running", "queued"]
    start_waiting_runs("pair")  # no slot: the oldest waiting run is tried, the rest are not read
    assert DagRuns().waiting("pair") == ["e"]


def test_waiting_runs_start_in_logical_date_order_and_only_they_are_read(
    queue: Queue, stream: Stream
) -> None:
    from datetime import UTC, datetime

    from slipstream.store.dag_runs import DagRuns

    register_dag("backlog", tasks=[_t("t")], max_active_runs=1)
    day = lambda d: datetime(2026, 7, d, tzinfo=UTC)  # noqa: E731
    start_run("backlog", run_id="first", logical_date=day(1))
    for run_id, logical_date in (("late", day(9)), ("early", day(3)), ("other", day(5))):
        start_run("backlog", run_id=run_id, logical_date=logical_date)
    register_dag("neighbour", tasks=[_t("t")], max_active_runs=1)
    start_run("neighbour", run_id="busy")
    start_run("neighbour", run_id="waits")  # another DAG's waiting run is not ours
    # the lookup reads the DAG's range of the waiting-runs index, not its history
    assert DagRuns().waiting("backlog") == ["early", "other", "late"]
    [first] = [w for w in queue.take() if w["ti"]["run_id"] == "first"]
    run_task(first)
    stream.deliver()
    assert run_state("backlog", "early") == "running"
    assert DagRuns().waiting("backlog") == ["other", "late"]


def _active_runs(dag_id: str) -> set[str]:
    from slipstream.store.dags import Dags

    return set(Dags().get(dag_id, consistent=True).get("active_runs") or ())


def _set_paused(dag_id: str, paused: bool) -> None:
    from slipstream.store.dags import Dags

    Dags().set_paused(dag_id, paused)


def test_raising_max_active_runs_starts_the_runs_already_waiting(queue: Queue, stream: Stream) -> None:
    """As Airflow reads max_active_runs from the DAG model: runs triggered under the old limit
    start under the new one as soon as the DAG is registered with it, no run having ended."""
    register_dag("drain", tasks=[_t("t")], max_active_runs=1)
    for run_id in ("a", "b", "c", "d"):
        start_run("drain", run_id=run_id)
    stream.deliver()
    assert [run_state("drain", r) for r in "abcd"] == ["running", "queued", "queued", "queued"]
    register_dag("drain", tasks=[_t("t")], max_active_runs=3)
    stream.deliver()
    assert [run_state("drain", r) for r in "abcd"] == ["running", "running", "running", "queued"]
    assert sorted(w["ti"]["run_id"] for w in queue.take()) == ["a", "b", "c"]


def test_lowering_max_active_runs_holds_runs_already_waiting_and_keeps_running_ones(
    queue: Queue, stream: Stream
) -> None:
    register_dag("narrow", tasks=[_t("t")], max_active_runs=3)
    start_run("narrow", run_id="a")
    start_run("narrow", run_id="b")
    _set_paused("narrow", True)
    start_run("narrow", run_id="c")  # waits, triggered under the limit 3
    register_dag("narrow", tasks=[_t("t")], max_active_runs=1)
    _set_paused("narrow", False)
    stream.deliver()
    assert [run_state("narrow", r) for r in "abc"] == ["running", "running", "queued"]
    batch = {w["ti"]["run_id"]: w for w in queue.take()}
    run_task(batch["a"])
    stream.deliver()  # one slot given back, yet b alone fills the new limit
    assert run_state("narrow", "c") == "queued"
    run_task(batch["b"])
    stream.deliver()
    assert run_state("narrow", "c") == "running"


def test_a_dag_registered_before_its_item_kept_the_limit_uses_its_documents(
    queue: Queue, stream: Stream
) -> None:
    from slipstream.store import keys
    from slipstream.store.table import Table

    register_dag("older", tasks=[_t("t")], max_active_runs=1)
    Table().update(keys.dag_pk("older"), keys.DAG_SK, "REMOVE max_active_runs")
    start_run("older", run_id="a")
    start_run("older", run_id="b")
    assert [run_state("older", r) for r in "ab"] == ["running", "queued"]
    [a] = queue.take()
    run_task(a)
    stream.deliver()
    assert run_state("older", "b") == "running"


def test_a_start_that_read_a_limit_changed_since_is_refused_then_retried(
    queue: Queue, stream: Stream
) -> None:
    """The slot is taken against the limit the start read; the DAG registered meanwhile with
    another one refuses the transaction (no run over the new limit), and that registration's
    stream record tries the waiting run again."""
    from slipstream.core import aws

    register_dag("racy", tasks=[_t("t")], max_active_runs=2)
    start_run("racy", run_id="a")
    _set_paused("racy", True)
    start_run("racy", run_id="b")  # waits: paused
    stream.deliver()
    client = aws.dynamodb()
    raced: list[bool] = []

    def lower_the_limit(**_: Any) -> None:
        if not raced:
            raced.append(True)
            register_dag("racy", tasks=[_t("t")], max_active_runs=1)

    client.meta.events.register_first("before-call.dynamodb.TransactWriteItems", lower_the_limit)
    try:
        _set_paused("racy", False)
        stream.deliver()  # unpaused: b's start read the limit 2, then the DAG was given 1
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", lower_the_limit)
    assert raced
    assert run_state("racy", "b") == "queued" and _active_runs("racy") == {"a"}
    register_dag("racy", tasks=[_t("t")], max_active_runs=2)
    stream.deliver()
    assert run_state("racy", "b") == "running" and _active_runs("racy") == {"a", "b"}


def test_paused_dag_runs_wait(queue: Queue) -> None:
    from slipstream.store.dags import Dags

    register_dag("paused", tasks=[_t("t")])
    Dags().set_paused("paused", True)
    run_id = start_run("paused")["run_id"]
    schedule_run("paused", run_id)
    assert run_state("paused", run_id) == "queued" and queue.take() == []
    Dags().set_paused("paused", False)
    schedule_run("paused", run_id)
    assert len(queue.take()) == 1


def test_max_active_tasks_limits_a_run(queue: Queue) -> None:
    register_dag("wide", tasks=[_t(f"t{i}") for i in range(5)], max_active_tasks=2)
    run_id = start_run("wide")["run_id"]
    schedule_run("wide", run_id)
    batch = queue.take()
    assert len(batch) == 2
    run_task(batch[0])
    assert len(queue.take()) == 1


def test_a_retry_due_past_the_calendars_end_waits_instead_of_failing(queue: Queue) -> None:
    """An end_date in year 9999 plus the retry delay overflows a datetime: the try waits (it is
    never due), and the request that reported it is not a 500."""
    register_dag("far", tasks=[{"task_id": "a", "upstream": [], "retries": 2}])
    run_id = start_run("far")["run_id"]
    [a] = queue.take()
    run_task(a, "running")

    run_task(a, "up_for_retry", start=False, end_date=datetime(9999, 12, 31, 23, 59, tzinfo=UTC))

    assert states("far", run_id) == {"a": "up_for_retry"}
    assert queue.take() == []
