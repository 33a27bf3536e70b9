"""The timer's sweeps: cron and interval runs (exactly one per tick), zombies, lost messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slipstream.local.seed import register_dag, start_run
from slipstream.scheduler.timer import sweep
from slipstream.services.scheduling import schedule_run
from slipstream.services.timetables import due_ticks
from slipstream.store.codec import utcnow
from slipstream.store.dag_runs import DagRuns
from slipstream.store.task_instances import TaskInstances
from tests.scheduler.conftest import Queue, run_state, run_task, states
from tests.support import env

T0 = datetime(2026, 7, 1, tzinfo=UTC)


def test_due_ticks_cron_and_interval() -> None:
    hourly = {"cron": "0 * * * *"}
    now = T0 + timedelta(hours=3, minutes=30)
    assert due_ticks(hourly, start_date=T0, last_tick=None, now=now, catchup=True) == [
        T0,
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=2),
        T0 + timedelta(hours=3),
    ]
    assert due_ticks(hourly, start_date=T0, last_tick=None, now=now, catchup=False) == [
        T0 + timedelta(hours=3)
    ]
    assert due_ticks(hourly, start_date=T0, last_tick=T0 + timedelta(hours=3), now=now, catchup=False) == []
    every_90 = {"interval_seconds": 5400}
    assert due_ticks(every_90, start_date=T0, last_tick=T0, now=now, catchup=True) == [
        T0 + timedelta(minutes=90),
        T0 + timedelta(minutes=180),
    ]
    assert due_ticks(hourly, start_date=now + timedelta(days=1), last_tick=None, now=now, catchup=True) == []


def _run_ids(dag_id: str) -> list[str]:
    return sorted(r["run_id"] for r in DagRuns().list_for_dag(dag_id))


def test_cron_dag_gets_exactly_one_run_per_interval(queue: Queue) -> None:
    register_dag(
        "hourly",
        tasks=[{"task_id": "t", "upstream": []}],
        schedule={"cron": "0 * * * *"},
        start_date="2026-07-01T00:00:00Z",
        catchup=True,
    )
    now = T0 + timedelta(hours=2, minutes=10)
    for _ in range(3):
        sweep(now)
    assert _run_ids("hourly") == [f"scheduled__{(T0 + timedelta(hours=h)).isoformat()}" for h in range(3)]
    sweep(now + timedelta(hours=1))
    sweep(now + timedelta(hours=1))
    assert len(_run_ids("hourly")) == 4


def test_without_catchup_only_the_latest_tick_runs(queue: Queue) -> None:
    register_dag(
        "latest",
        tasks=[{"task_id": "t", "upstream": []}],
        schedule={"interval_seconds": 600},
        start_date="2026-07-01T00:00:00Z",
        catchup=False,
    )
    sweep(T0 + timedelta(hours=5, minutes=3))
    sweep(T0 + timedelta(hours=5, minutes=4))
    assert _run_ids("latest") == [f"scheduled__{(T0 + timedelta(hours=5)).isoformat()}"]


def test_missed_heartbeat_is_retried_then_failed(queue: Queue) -> None:
    register_dag("zombie", tasks=[{"task_id": "t", "upstream": [], "retries": 1, "retry_delay": 0}])
    run_id = start_run("zombie")["run_id"]
    schedule_run("zombie", run_id)
    run_task(queue.take()[0], "running")
    with env(SLIPSTREAM_HEARTBEAT_TIMEOUT="60"):
        assert sweep(utcnow()).zombies == []
        report = sweep(utcnow() + timedelta(seconds=120))
        assert len(report.zombies) == 1
        [retry] = queue.take()
        assert retry["ti"]["try_number"] == 2
        run_task(retry, "running")
        sweep(utcnow() + timedelta(seconds=120))
    assert states("zombie", run_id) == {"t": "failed"}
    from slipstream.store.task_instances import TaskInstances

    [ti] = TaskInstances().list_run("zombie", run_id)
    assert "no heartbeat" in ti["failure_reason"]


def test_lost_message_is_sent_again(queue: Queue) -> None:
    register_dag("lost", tasks=[{"task_id": "t", "upstream": []}])
    run_id = start_run("lost")["run_id"]
    schedule_run("lost", run_id)
    [original] = queue.take()  # the worker that took it died before /run
    assert sweep(utcnow()).resent == []
    report = sweep(utcnow() + timedelta(seconds=400))
    assert len(report.resent) == 1
    [again] = queue.take()
    assert again["ti"]["id"] == original["ti"]["id"] and again["token"] != original["token"]
    assert sweep(utcnow() + timedelta(seconds=401)).resent == []  # once per resend period


def test_a_retry_sent_with_a_delay_is_not_sent_again_before_it_is_due(queue: Queue) -> None:
    register_dag("later", tasks=[{"task_id": "t", "upstream": [], "retries": 1, "retry_delay": 600}])
    run_id = start_run("later")["run_id"]
    [first] = queue.take()
    run_task(first, "up_for_retry")  # queued again at once, its message delayed by 600 s
    [ti] = TaskInstances().list_run("later", run_id)
    assert (ti["state"], ti["try_number"]) == ("queued", 2)
    # visible at +600 s: lost only if no worker started it by +900 s (the resend period after that)
    assert sweep(utcnow() + timedelta(seconds=850)).resent == []
    assert sweep(utcnow() + timedelta(seconds=920)).resent == [ti["id"]]


def test_a_message_sqs_refused_is_sent_again_at_the_next_sweep(queue: Queue) -> None:
    from botocore.exceptions import ClientError

    from slipstream.core import aws

    def refuse(**_: object) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")

    register_dag("refused", tasks=[{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": ["a"]}])
    run_id = start_run("refused")["run_id"]
    [a] = queue.take()
    events = aws.sqs().meta.events
    events.register("before-call.sqs.SendMessage", refuse)  # SQS down: every send is refused
    try:
        run_task(a)  # b is queued with a's success; its message is refused
    finally:
        events.unregister("before-call.sqs.SendMessage", refuse)
    assert states("refused", run_id)["b"] == "queued" and queue.take() == []
    [resent] = sweep(utcnow() + timedelta(seconds=1)).resent  # not after the resend period: now
    assert [w["ti"]["id"] for w in queue.take()] == [resent]


def test_a_delayed_retry_sqs_refused_is_sent_again_once_its_delay_has_passed(queue: Queue) -> None:
    from botocore.exceptions import ClientError

    from slipstream.core import aws

    def refuse(**_: object) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")

    register_dag("refused_retry", tasks=[{"task_id": "t", "upstream": [], "retries": 1, "retry_delay": 120}])
    start_run("refused_retry")
    [first] = queue.take()
    events = aws.sqs().meta.events
    events.register("before-call.sqs.SendMessage", refuse)
    try:
        run_task(first, "up_for_retry")  # queued again at once; its delayed message is refused
    finally:
        events.unregister("before-call.sqs.SendMessage", refuse)
    assert sweep(utcnow() + timedelta(seconds=100)).resent == []  # the retry is not due yet
    assert len(sweep(utcnow() + timedelta(seconds=125)).resent) == 1


def test_dagrun_timeout_fails_the_run_and_skips_what_is_unfinished(queue: Queue) -> None:
    register_dag(
        "slow",
        tasks=[
            {"task_id": "done", "upstream": []},
            {"task_id": "busy", "upstream": []},
            {"task_id": "later", "upstream": ["busy"]},
        ],
        dagrun_timeout=600.5,
        max_active_runs=1,
    )
    run_id = start_run("slow")["run_id"]
    waiting = start_run("slow", run_id="waiting")["run_id"]
    schedule_run("slow", run_id)
    schedule_run("slow", waiting)  # no free slot: it waits
    workloads = {w["ti"]["task_id"]: w for w in queue.take()}
    run_task(workloads["done"], "success")
    run_task(workloads["busy"], "running")
    with env(SLIPSTREAM_HEARTBEAT_TIMEOUT="3600"):  # no zombie in the way
        assert sweep(utcnow() + timedelta(seconds=590)).timed_out == []
        assert run_state("slow", run_id) == "running"

        report = sweep(utcnow() + timedelta(seconds=610))

    assert report.timed_out == [run_id]
    assert run_state("slow", run_id) == "failed"
    # as Airflow: every unfinished TI is skipped, the running one too (its heartbeat gets 409)
    assert states("slow", run_id) == {"done": "success", "busy": "skipped", "later": "skipped"}
    assert run_state("slow", waiting) == "running"  # the slot went to the waiting run
    assert "GSI2PK" not in DagRuns().get("slow", run_id)  # out of the deadline index


def test_a_cleared_run_gets_a_fresh_dagrun_timeout(queue: Queue) -> None:
    from slipstream.services import runs
    from slipstream.store import keys
    from slipstream.store.codec import fmt_time
    from slipstream.store.table import Table, values

    register_dag("slow2", tasks=[{"task_id": "t", "upstream": []}], dagrun_timeout=600)
    run_id = start_run("slow2")["run_id"]
    schedule_run("slow2", run_id)
    run_task(queue.take()[0], "running")
    started_before = fmt_time(utcnow() - timedelta(seconds=500))  # as if it had started 500 s ago
    Table().update(
        keys.run_pk("slow2", run_id), keys.RUN_SK, "SET start_date = :s", values=values(s=started_before)
    )

    runs.clear("slow2", run_id)
    schedule_run("slow2", run_id)

    assert DagRuns().get("slow2", run_id)["start_date"] > started_before
    assert sweep(utcnow() + timedelta(seconds=200)).timed_out == []  # 700 s after the first start
    assert sweep(utcnow() + timedelta(seconds=610)).timed_out == [run_id]


def test_runs_without_dagrun_timeout_are_not_indexed_for_it(queue: Queue) -> None:
    register_dag("patient", tasks=[{"task_id": "t", "upstream": []}])
    run_id = start_run("patient")["run_id"]
    schedule_run("patient", run_id)
    assert "GSI2PK" not in DagRuns().get("patient", run_id)
    assert sweep(utcnow() + timedelta(days=30)).timed_out == []
    assert run_state("patient", run_id) == "running"
