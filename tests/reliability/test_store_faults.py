"""Store faults inside a request: every AWS call a writing request makes, failed in turn.

For each request below: the request is made once without faults (the twin: its answer, the AWS
calls it makes, and the state it leaves once the stream handler has run), then, from the same
starting state, once per (call index, fault): DynamoDB throttling (both codes) at every DynamoDB
call, a TransactionConflict cancellation at every TransactWriteItems, a 503 at every S3 and SQS
call. Each faulted request must answer the twin's status or the retryable 503 (never a 500 or a
misleading 4xx); after a 503 the client repeats the request, as Airflow's client does; then the
stream handler runs on what was written and the state must equal the twin's (timestamps and
generated ids aside). A queued task whose message was lost must be found by the timer's resend.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from slipstream.auth.tokens import mint_admin_token
from slipstream.core.settings import get_settings
from slipstream.local.seed import execution_token, register_dag, start_run
from slipstream.scheduler import timer
from slipstream.services.scheduling import schedule_run
from slipstream.store.codec import fmt_time, utcnow
from tests.reliability.faults import Fault, Injector, State, World, faults_for

RUN_BODY = {"state": "running", "hostname": "worker-1", "unixname": "slip", "pid": 1234}
TWO_TASKS = [
    {"task_id": "hello", "upstream": [], "retries": 2, "retry_delay": 0},
    {"task_id": "after", "upstream": ["hello"]},
]


@dataclass
class Call:
    method: str
    url: str
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    ok: frozenset[int] = frozenset({200})
    """What the fault-free request answers (a faulted one may answer this too)."""
    replay: frozenset[int] = frozenset()
    """What a repeat may answer besides `ok` once the first attempt's write went through."""

    def __call__(self, http: TestClient) -> httpx.Response:
        return http.request(self.method, self.url, json=self.body, headers=self.headers)


def _now() -> str:
    return fmt_time(utcnow())


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_admin_token('ops@example.com')}"}


def _running_run(http: TestClient, world: World, dag_id: str = "example") -> tuple[str, dict[str, Any]]:
    """A started run whose root tasks are queued; returns the run id and their workloads by task."""
    run_id = start_run(dag_id)["run_id"]
    schedule_run(dag_id, run_id)
    return run_id, {w["ti"]["task_id"]: w for w in world.take_messages()}


def _start(http: TestClient, workload: dict[str, Any]) -> dict[str, str]:
    """/run for a queued workload; returns the execution token's headers."""
    ti = workload["ti"]
    answer = http.patch(
        f"/execution/task-instances/{ti['id']}/run",
        json={**RUN_BODY, "start_date": _now()},
        headers={"Authorization": f"Bearer {workload['token']}"},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {execution_token(ti)}"}


def _ti_url(workload: dict[str, Any], tail: str) -> str:
    return f"/execution/task-instances/{workload['ti']['id']}/{tail}"


def _running_hello(http: TestClient, world: World, **dag: Any) -> tuple[str, dict[str, Any], dict[str, str]]:
    register_dag(tasks=dag.pop("tasks", TWO_TASKS), **dag)
    run_id, workloads = _running_run(http, world)
    hello = workloads["hello"]
    return run_id, hello, _start(http, hello)


def _state(http: TestClient, world: World, **payload: Any) -> Call:
    _, hello, headers = _running_hello(http, world)
    if payload["state"] != "deferred":
        payload["end_date"] = _now()
    return Call(
        "PATCH",
        _ti_url(hello, "state"),
        payload,
        headers,
        ok=frozenset({204}),
        replay=frozenset({200}),
    )


# -- the requests ---------------------------------------------------------------------------------
def run_ti(http: TestClient, world: World) -> Call:
    register_dag(tasks=TWO_TASKS)
    _, workloads = _running_run(http, world)
    hello = workloads["hello"]
    headers = {"Authorization": f"Bearer {hello['token']}"}
    return Call("PATCH", _ti_url(hello, "run"), {**RUN_BODY, "start_date": _now()}, headers)


def state_success(http: TestClient, world: World) -> Call:
    return _state(http, world, state="success")


def state_success_outlets(http: TestClient, world: World) -> Call:
    register_dag("consumer", tasks=[{"task_id": "use", "upstream": []}], schedule={"assets": ["orders"]})
    outlet = {"name": "orders", "uri": "s3://orders", "type": "Asset"}
    return _state(http, world, state="success", task_outlets=[outlet], outlet_events=[])


def state_failed_fail_fast(http: TestClient, world: World) -> Call:
    tasks = [*TWO_TASKS, {"task_id": "side", "upstream": []}]
    _, hello, headers = _running_hello(http, world, tasks=tasks, fail_fast=True)
    return Call(
        "PATCH",
        _ti_url(hello, "state"),
        {"state": "failed", "end_date": _now()},
        headers,
        ok=frozenset({204}),
        replay=frozenset({200}),
    )


def state_up_for_retry(http: TestClient, world: World) -> Call:
    return _state(http, world, state="up_for_retry", retry_delay_seconds=0)


def state_deferred(http: TestClient, world: World) -> Call:
    return _state(
        http,
        world,
        state="deferred",
        classpath="airflow.triggers.temporal.DateTimeTrigger",
        trigger_kwargs={"moment": _now()},
        next_method="execute_complete",
    )


def state_up_for_reschedule(http: TestClient, world: World) -> Call:
    return _state(http, world, state="up_for_reschedule", reschedule_date=_now())


def heartbeat(http: TestClient, world: World) -> Call:
    _, hello, headers = _running_hello(http, world)
    body = {"hostname": RUN_BODY["hostname"], "pid": RUN_BODY["pid"]}
    return Call("PUT", _ti_url(hello, "heartbeat"), body, headers, ok=frozenset({204}))


def _xcom(http: TestClient, world: World, value: Any, *, before: Any = None) -> Call:
    run_id, _, headers = _running_hello(http, world)
    url = f"/execution/xcoms/example/{run_id}/hello/result"
    if before is not None:
        assert http.post(url, json=before, headers=headers).status_code == 201
    return Call("POST", url, value, headers, ok=frozenset({201}))


BIG = "x" * 2_000
"""Beyond the offload threshold the tests set (1,000 bytes): stored in S3."""


def xcom_small(http: TestClient, world: World) -> Call:
    return _xcom(http, world, {"rows": 3})


def xcom_offloaded(http: TestClient, world: World) -> Call:
    return _xcom(http, world, {"rows": BIG})


def xcom_replacing_offloaded(http: TestClient, world: World) -> Call:
    return _xcom(http, world, {"rows": 3}, before={"rows": BIG})


def variable_set(http: TestClient, world: World) -> Call:
    _, _, headers = _running_hello(http, world)
    return Call("PUT", "/execution/variables/color", {"val": "blue"}, headers, ok=frozenset({201}))


def rtif(http: TestClient, world: World) -> Call:
    _, hello, headers = _running_hello(http, world)
    return Call("PUT", _ti_url(hello, "rtif"), {"bash_command": "echo hi"}, headers, ok=frozenset({201}))


def skip_downstream(http: TestClient, world: World) -> Call:
    _, hello, headers = _running_hello(http, world)
    return Call(
        "PATCH", _ti_url(hello, "skip-downstream"), {"tasks": ["after"]}, headers, ok=frozenset({204})
    )


def register(http: TestClient, world: World) -> Call:
    document = {"dag_id": "fresh", "fileloc": "fresh.py", "tasks": [{"task_id": "a"}, {"task_id": "b"}]}
    return Call("POST", "/api/v2/dags", document, _admin(), ok=frozenset({201}))


def trigger(http: TestClient, world: World) -> Call:
    register_dag(tasks=TWO_TASKS)
    body = {"dag_run_id": "manual-1", "logical_date": None}
    return Call("POST", "/api/v2/dags/example/dagRuns", body, _admin())


def _finished_run(http: TestClient, world: World) -> str:
    """hello succeeded, after failed: a failed run to clear."""
    run_id, hello, headers = _running_hello(http, world)
    assert http.patch(_ti_url(hello, "state"), json={"state": "success", "end_date": _now()}, headers=headers)
    [after] = world.take_messages()
    after_headers = _start(http, after)
    failed = {"state": "failed", "end_date": _now()}
    assert http.patch(_ti_url(after, "state"), json=failed, headers=after_headers).status_code == 204
    world.settle()
    return run_id


def clear_run(http: TestClient, world: World) -> Call:
    run_id = _finished_run(http, world)
    return Call("POST", f"/api/v2/dags/example/dagRuns/{run_id}/clear", {"dry_run": False}, _admin())


def clear_task(http: TestClient, world: World) -> Call:
    run_id = _finished_run(http, world)
    body = {"dag_run_id": run_id, "task_ids": ["after"], "dry_run": False}
    return Call("POST", "/api/v2/dags/example/clearTaskInstances", body, _admin())


def mark_failed(http: TestClient, world: World) -> Call:
    run_id, _, _ = _running_hello(http, world)
    return Call("PATCH", f"/api/v2/dags/example/dagRuns/{run_id}", {"state": "failed"}, _admin())


REQUESTS: list[Callable[[TestClient, World], Call]] = [
    run_ti,
    state_success,
    state_success_outlets,
    state_failed_fail_fast,
    state_up_for_retry,
    state_deferred,
    state_up_for_reschedule,
    heartbeat,
    xcom_small,
    xcom_offloaded,
    xcom_replacing_offloaded,
    variable_set,
    rtif,
    skip_downstream,
    register,
    trigger,
    clear_run,
    clear_task,
    mark_failed,
]


# -- the battery ----------------------------------------------------------------------------------
@dataclass
class Tally:
    request: str
    calls: dict[str, int] = field(default_factory=dict)
    injections: int = 0
    succeeded: int = 0
    unchanged: int = 0
    converged: int = 0
    resent: int = 0
    problems: list[str] = field(default_factory=list)

    def row(self) -> str:
        calls = ", ".join(f"{n} {s}" for s, n in self.calls.items() if n)
        return (
            f"{self.request}: calls {calls}; {self.injections} injections: {self.succeeded} answered"
            f" as the twin, {self.unchanged} 503 with nothing written, {self.converged} 503 after"
            f" a partial write; timer resend needed {self.resent}"
        )


def _retryable(answer: httpx.Response) -> bool:
    if answer.status_code != 503:
        return False
    detail = answer.json().get("detail", {})
    return detail.get("reason") == "retryable" and answer.headers.get("Retry-After") == "1"


def _final(world: World) -> tuple[State, bool]:
    """The stream handler on what was written; then, if a queued TI has no message, the timer's
    resend (as if `queued_resend_seconds` had passed). Returns the state and whether it resent."""
    world.settle()
    items = world.items()
    world.take_messages()
    delivered = {m["ti"]["id"] for m in world.delivered}
    lost = [
        i
        for i in items
        if i["SK"].startswith("RUN#TI#") and i.get("state") == "queued" and i["id"] not in delivered
    ]
    if not lost:
        return world.state(items), False
    later = utcnow() + timedelta(seconds=get_settings().queued_resend_seconds + 1)
    with world.injector.armed(None):
        timer.resend_lost(later)
    # By then the TIs whose message did arrive have started: only the lost ones count.
    resent = world.take_messages()
    world.delivered = [m for m in world.delivered if m not in resent or m["ti"]["id"] not in delivered]
    return world.state(), True


def battery(http: TestClient, world: World, prepare: Callable[[TestClient, World], Call]) -> Tally:
    injector: Injector = world.injector
    call = prepare(http, world)
    world.save()
    world.restore()
    baseline = world.state()
    with injector.armed(None):
        answer = call(http)
    assert answer.status_code in call.ok, f"{prepare.__name__}: {answer.text}"
    tally = Tally(prepare.__name__, {s: injector.count(s) for s in ("dynamodb", "s3", "sqs")})
    plan = [
        Fault(service, index, code)
        for service in ("dynamodb", "s3", "sqs")
        for index, operation in enumerate(injector.operations(service))
        for code in faults_for(service, index, operation)
    ]
    twin, twin_resent = _final(world)
    assert not twin_resent
    for fault in plan:
        world.restore()
        with injector.armed(fault):
            answer = call(http)
        assert injector.injected, f"{fault}: not reached"
        tally.injections += 1
        where = f"{prepare.__name__} {fault} ({injector.injected[0][1]})"
        if answer.status_code in call.ok:
            tally.succeeded += 1
        elif _retryable(answer):
            if world.state() == baseline:
                tally.unchanged += 1
            else:
                tally.converged += 1
            world.settle()  # the stream sees the partial write before the client's retry
            with injector.armed(None):
                again = call(http)
            if again.status_code not in call.ok | call.replay:
                tally.problems.append(f"{where}: repeat answered {again.status_code} {again.text}")
        else:
            tally.problems.append(f"{where}: answered {answer.status_code} {answer.text}")
            continue
        final, resent = _final(world)
        tally.resent += resent
        if final != twin:
            tally.problems.append(f"{where}: ended unlike the fault-free twin\n{twin.diff(final)}")
    return tally


@pytest.fixture
def small_offload() -> None:
    get_settings().xcom_offload_bytes = 1_000


def test_a_fault_at_any_call_answers_503_or_success_and_converges(
    http: TestClient, world: World, small_offload: None
) -> None:
    """All requests in one world (wiped between them): one moto setup instead of nineteen."""
    tallies = []
    for prepare in REQUESTS:
        world.wipe()
        tallies.append(battery(http, world, prepare))
    print("\n".join(t.row() for t in tallies))
    print("total injections:", sum(t.injections for t in tallies))
    assert all(t.injections for t in tallies)
    problems = [p for t in tallies for p in t.problems]
    assert not problems, "\n\n".join(problems)


def test_both_throttling_codes_and_a_server_error_answer_alike(http: TestClient, world: World) -> None:
    """The battery alternates the two throttling codes; here each, and a 500, at the same call."""
    call = run_ti(http, world)
    world.save()
    answers = []
    for code in ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"):
        world.restore()
        with world.injector.armed(Fault("dynamodb", 0, code)):
            answer = call(http)
        assert _retryable(answer), answer.text
        answers.append(answer.json())
    assert answers[0] == answers[1] == answers[2]
