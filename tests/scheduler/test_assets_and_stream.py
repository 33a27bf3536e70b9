"""Asset-triggered DAGs, and the stream handler's record routing and partial batch failures."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer

from slipstream.auth.tokens import TIKey
from slipstream.execution_api.datamodels.common import AssetProfile
from slipstream.local.events import LocalContext
from slipstream.local.seed import register_dag, start_run
from slipstream.services import assets
from slipstream.services.scheduling import schedule_run
from slipstream.store.codec import utcnow
from slipstream.store.dag_runs import DagRuns
from slipstream.store.table import Table
from tests.scheduler.conftest import Queue, run_task

SERIALIZER = TypeSerializer()


def _produce(dag_id: str, asset: str) -> None:
    run_id = start_run(dag_id, run_id=f"r-{utcnow().timestamp()}")["run_id"]
    outlets = [AssetProfile(name=asset, uri=f"s3://{asset}", type="Asset")]
    Table().transact(assets.outlet_event_actions(TIKey(dag_id, run_id, "t"), outlets, [], utcnow()))


def _asset_event_records(asset: str) -> list[dict[str, Any]]:
    events = Table().query(f"ASSET#{asset}", prefix="EVENT#")
    return [_record("INSERT", e, None, e) for e in events]


def _record(
    name: str, keys: dict[str, Any], old: dict[str, Any] | None, new: dict[str, Any] | None
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "Keys": {"PK": {"S": keys["PK"]}, "SK": {"S": keys["SK"]}},
        "SequenceNumber": str(abs(hash((name, keys["SK"], str(new))))),
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if old:
        change["OldImage"] = {k: SERIALIZER.serialize(v) for k, v in old.items()}
    if new:
        change["NewImage"] = {k: SERIALIZER.serialize(v) for k, v in new.items()}
    return {
        "eventID": "1",
        "eventName": name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/slipstream/stream/x",
    }


def _stream(records: list[dict[str, Any]]) -> dict[str, Any]:
    from slipstream.handlers.stream import handler

    return handler({"Records": records}, LocalContext())


def test_asset_event_starts_the_consuming_dag_once(queue: Queue) -> None:
    register_dag("producer", tasks=[{"task_id": "t", "upstream": []}])
    register_dag("consumer", tasks=[{"task_id": "use", "upstream": []}], schedule={"assets": ["orders"]})
    _produce("producer", "orders")
    records = _asset_event_records("orders")
    assert _stream(records) == {"batchItemFailures": []}
    assert _stream(records) == {"batchItemFailures": []}  # a duplicated delivery
    runs = DagRuns().list_for_dag("consumer")
    assert len(runs) == 1
    assert runs[0]["run_type"] == "asset_triggered"
    assert '"name":"orders"' in runs[0]["consumed_asset_events"].replace(" ", "")


def test_dag_on_two_assets_waits_for_both(queue: Queue) -> None:
    register_dag("producer", tasks=[{"task_id": "t", "upstream": []}])
    register_dag("both", tasks=[{"task_id": "use", "upstream": []}], schedule={"assets": ["a", "b"]})
    _produce("producer", "a")
    _stream(_asset_event_records("a"))
    assert DagRuns().list_for_dag("both") == []
    _produce("producer", "b")
    _stream(_asset_event_records("b"))
    assert len(DagRuns().list_for_dag("both")) == 1


def test_ti_state_change_record_schedules_the_run(queue: Queue) -> None:
    register_dag("flow", tasks=[{"task_id": "a", "upstream": []}, {"task_id": "b", "upstream": ["a"]}])
    run_id = start_run("flow")["run_id"]
    run = DagRuns().get("flow", run_id)
    assert _stream([_record("INSERT", run, None, run)]) == {"batchItemFailures": []}
    [a] = queue.take()
    from slipstream.core.settings import get_settings

    get_settings().scheduler_fast_path = False
    try:
        run_task(a)
    finally:
        get_settings().scheduler_fast_path = True
    assert queue.take() == []  # no fast path: only the stream handler moves b
    from slipstream.store.task_instances import TaskInstances

    ti = TaskInstances().get(TIKey("flow", run_id, "a"))
    assert ti is not None
    old = {**ti, "state": "running"}
    _stream([_record("MODIFY", ti, old, ti)] * 2)
    assert [w["ti"]["task_id"] for w in queue.take()] == ["b"]


def test_partial_batch_failure_reports_the_failed_record(queue: Queue) -> None:
    register_dag("flow", tasks=[{"task_id": "a", "upstream": []}])
    run_id = start_run("flow")["run_id"]
    run = {**DagRuns().get("flow", run_id), "state": "queued"}  # as a run waiting to start
    good = _record("INSERT", run, None, run)
    broken_run = {k: v for k, v in run.items() if k != "dag_id"}  # an image the handler cannot use
    bad = _record("INSERT", broken_run, None, broken_run)
    bad["dynamodb"]["SequenceNumber"] = "42"
    result = _stream([good, bad])
    assert result == {"batchItemFailures": [{"itemIdentifier": "42"}]}
    assert len(queue.take()) == 1
    schedule_run("flow", run_id)


def test_only_records_that_can_unblock_something_cost_an_evaluation() -> None:
    from slipstream.scheduler.stream import Job, job_for

    run = {"PK": "RUN#d#r", "SK": "RUN", "dag_id": "d", "run_id": "r"}
    ti = {"PK": "RUN#d#r", "SK": "RUN#TI#t#00000000", "dag_id": "d", "run_id": "r"}

    def job(name: str, item: dict[str, Any], old: str | None, new: str | None) -> bool:
        before = {**item, **({"state": old} if old else {})}
        after = {**item, **({"state": new} if new else {})}
        return job_for(name, item, before if name != "INSERT" else {}, after) is not None

    assert job_for("INSERT", run, {}, {**run, "state": "queued"}) == Job("start_in_turn", ("d", "r"))
    assert not job("INSERT", run, None, "running")  # created running, its first tasks queued with it
    assert job("MODIFY", run, "success", "queued")  # cleared
    assert not job("MODIFY", run, "queued", "running")
    assert not job("MODIFY", run, "running", "success")
    assert not job("INSERT", ti, None, None)
    for settled in ("success", "failed", "skipped", "upstream_failed", "up_for_retry", "up_for_reschedule"):
        assert job("MODIFY", ti, "running", settled), settled
    assert job("MODIFY", ti, "failed", None)  # cleared
    for busy in ("queued", "running", "deferred"):
        assert not job("MODIFY", ti, None, busy), busy
    assert not job("MODIFY", ti, "success", "success")


def test_a_dag_that_gives_back_a_slot_is_unpaused_or_relimited_starts_its_waiting_runs() -> None:
    from slipstream.scheduler.stream import Job, job_for

    dag = {"PK": "DAG#d", "SK": "DAG", "dag_id": "d", "is_paused": False}

    def job(old: dict[str, Any], new: dict[str, Any]) -> Job | None:
        return job_for("MODIFY", dag, {**dag, **old}, {**dag, **new})

    start = Job("start_waiting_runs", ("d",))
    assert job({"active_runs": {"a", "b"}}, {"active_runs": {"b"}}) == start  # a run ended
    assert job({"active_runs": {"a"}}, {}) == start  # the last one: DynamoDB drops an empty set
    assert job({"is_paused": True}, {"is_paused": False}) == start
    assert job({"active_runs": {"a"}}, {"active_runs": {"a", "b"}}) is None  # a run started
    assert job({"max_active_runs": 1}, {"max_active_runs": 3}) == start  # registered with a new limit
    assert job({"max_active_runs": 3}, {"max_active_runs": 1}) == start  # a start may have read 3
    assert job({"max_active_runs": 2}, {"max_active_runs": 2}) is None
    paused = {"is_paused": True}
    assert job({"active_runs": {"a"}, **paused}, paused) is None  # paused: no run may start
    assert job({}, {"description": "new"}) is None
