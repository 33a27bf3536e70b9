"""Workers killed, stopped, fed duplicates, and cut off from the API, on the local stack: real
processes (moto's server, the stack, `slipstream worker`s), real HTTP. One stack for the module;
each test runs its own workers against it (`slipstream.chaos.fleet`) and checks the API's record of
every try against the ledger the tasks themselves write (`slipstream.chaos.ledger`).

The figures each test prints (`-s`) are the ones docs/reliability.md reports.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from slipstream.chaos.fleet import Fleet, alive, process_tree, wait_until_gone
from slipstream.chaos.ledger import Ledger
from slipstream.chaos.proxy import FaultProxy, Mode
from slipstream.cli._api import ManagementApi, segment
from slipstream.cli.dags import documents
from slipstream.local.stack import StackInfo
from tests.local.launch import running_stack

pytestmark = pytest.mark.e2e

HEARTBEAT_TIMEOUT = 10
TIMER_SECONDS = 1
SERVER = {
    "SLIPSTREAM_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
    "SLIPSTREAM_LOCAL_TIMER_SECONDS": str(TIMER_SECONDS),
}
"""Everything else at its default: SLIPSTREAM_QUEUED_RESEND_SECONDS (300 s) cannot rescue a test."""
WORKER_GRACE = 3.0
KILL_GRACE = 2.0
WORKERS = {
    "SLIPSTREAM_HEARTBEAT_INTERVAL": "1",
    "SLIPSTREAM_WORKER_GRACE": str(WORKER_GRACE),
    "SLIPSTREAM_KILL_GRACE": str(KILL_GRACE),
}
DAGS = {"one": 1, "two": 2, "eight": 8}
"""DAG id -> its number of independent tasks (`t000`, ...)."""


class Harness:
    def __init__(self, info: StackInfo, root: Path) -> None:
        self.info = info
        self.root = root
        self.dags = root / "dags"
        self.ledger = Ledger(root / "ledger.jsonl")
        self.api = ManagementApi(info.api_url, info.admin_token)

    def fleet(self, environment: dict[str, str] | None = None) -> Fleet:
        return Fleet(self.info, self.dags, self.root / "workers", {**WORKERS, **(environment or {})})

    def trigger(self, dag_id: str, run_id: str, **conf: Any) -> None:
        self.api.request("POST", f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "conf": conf})

    def tis(self, dag_id: str, run_id: str) -> dict[str, dict[str, Any]]:
        found = self.api.get(f"/dags/{dag_id}/dagRuns/{segment(run_id)}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti for ti in found}

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[tuple[int, str, str]]:
        path = f"/dags/{dag_id}/dagRuns/{segment(run_id)}/taskInstances/{task_id}/tries"
        return [(t["try_number"], t["state"], t["hostname"]) for t in self.api.get(path)["task_instances"]]

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api.get(f"/dags/{dag_id}/dagRuns/{segment(run_id)}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> None:
        wait_for(lambda: self.run_state(dag_id, run_id) in ("success", "failed"), timeout, f"{run_id} to end")
        assert self.run_state(dag_id, run_id) == "success", self.tis(dag_id, run_id)

    def entries(self, run_id: str, event: str) -> list[tuple[str, int, str]]:
        return sorted((e.task, e.try_number, e.host) for e in self.ledger.entries(event) if e.run == run_id)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds until `condition` held; fails after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"waited {timeout} s for {what}"
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    root = tmp_path_factory.mktemp("worker-faults")
    with running_stack(root, {**os.environ, **SERVER}) as info:
        harness = Harness(info, root)
        harness.dags.mkdir()
        for dag_id, tasks in DAGS.items():
            harness.ledger.write_dag(harness.dags, dag_id, tasks, retries=2)
        for document in documents(harness.dags):
            harness.api.request("POST", "/dags", json=document)
            harness.api.request("PATCH", f"/dags/{document['dag_id']}", json={"is_paused": False})
        yield harness


def test_a_worker_killed_mid_task_is_retried_elsewhere_and_succeeds_once(harness: Harness) -> None:
    run_id = "sigkill"
    with harness.fleet() as fleet:
        fleet.start(1)
        harness.trigger("one", run_id, first_try_seconds={"*": 300}, seconds={"*": 1})
        wait_for(lambda: bool(harness.entries(run_id, "start")), 60, "try 1 to start")
        processes = process_tree(fleet.workers[1].pid)
        fleet.start(2)
        fleet.kill(1)
        killed_at = time.monotonic()
        assert len(processes) >= 2 and not alive(processes)  # its try's Supervisor and Task Runner too
        recovered = wait_for(
            lambda: harness.tis("one", run_id)["t000"]["try_number"] > 1,
            HEARTBEAT_TIMEOUT + 30,
            "the killed try to be handed back",
        )
        harness.wait_for_run("one", run_id, 60)
        finished = time.monotonic() - killed_at
    print(f"\nSIGKILL: try 1 handed back {recovered:.1f} s after the kill, run done after {finished:.1f} s")
    # The promise: found within the heartbeat timeout (plus a timer tick), with generous slack.
    assert recovered < HEARTBEAT_TIMEOUT + TIMER_SECONDS + 10
    assert harness.tries("one", run_id, "t000") == [
        (1, "up_for_retry", "chaos-1.1"),
        (2, "success", "chaos-2.1"),
    ]
    assert harness.entries(run_id, "start") == [("t000", 1, "chaos-1.1"), ("t000", 2, "chaos-2.1")]
    assert harness.entries(run_id, "done") == [("t000", 2, "chaos-2.1")]


def test_a_spare_try_process_that_died_idle_is_replaced_and_the_next_message_runs(harness: Harness) -> None:
    """The worker keeps a try process (and its runner) ready before a message comes; one killed
    while it waits costs nothing: its message goes to a fresh process, and a new spare follows."""
    run_id = "dead-spare"
    with harness.fleet() as fleet:
        worker = fleet.start(1)
        wait_for(lambda: bool(_children(worker.pid)), 30, "a spare try process")
        [spare] = _children(worker.pid)
        os.kill(spare, signal.SIGKILL)
        harness.trigger("one", run_id, seconds={"*": 0})
        harness.wait_for_run("one", run_id, 60)
        wait_for(lambda: bool(set(_children(worker.pid)) - {spare}), 30, "the next spare")
    assert harness.tries("one", run_id, "t000") == [(1, "success", "chaos-1.1")]
    assert harness.entries(run_id, "done") == [("t000", 1, "chaos-1.1")]


def _children(pid: int) -> set[int]:
    """The direct children of `pid` still running (a zombie waiting to be reaped is not)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return set()
    return {child for child, _ in alive(process_tree(pid)) if str(child) in listed}


def test_a_stopped_worker_finishes_what_fits_in_its_grace_and_hands_back_the_rest(harness: Harness) -> None:
    run_id = "sigterm"
    with harness.fleet() as fleet:
        worker = fleet.start(1)
        # t000 ends within the grace, t001 would need 300 s.
        harness.trigger("two", run_id, seconds={"*": 2}, first_try_seconds={"t001": 300})
        wait_for(lambda: len(harness.entries(run_id, "start")) == 2, 60, "both tries to start")
        processes = process_tree(worker.pid)
        fleet.terminate(1)
        stopped_at = time.monotonic()
        worker.popen.wait(WORKER_GRACE + KILL_GRACE + 20)
        exited = time.monotonic() - stopped_at
        assert worker.popen.returncode == 0
        assert not wait_until_gone(processes, 5), "processes of the stopped worker left behind"
        tis = harness.tis("two", run_id)
        assert (tis["t000"]["state"], tis["t000"]["try_number"]) == ("success", 1)
        assert tis["t001"]["state"] != "running" or tis["t001"]["try_number"] > 1
        fleet.start(2)
        harness.wait_for_run("two", run_id, 60)
        finished = time.monotonic() - stopped_at
    print(
        f"\nSIGTERM: worker exited after {exited:.1f} s (grace {WORKER_GRACE} s), "
        f"run done after {finished:.1f} s"
    )
    assert exited < WORKER_GRACE + KILL_GRACE + 10
    assert harness.tries("two", run_id, "t001") == [
        (1, "up_for_retry", "chaos-1.1"),
        (2, "success", "chaos-2.1"),
    ]
    assert harness.entries(run_id, "done") == [("t000", 1, "chaos-1.1"), ("t001", 2, "chaos-2.1")]


def test_a_worker_stopped_during_its_long_poll_hands_back_what_the_poll_brought(harness: Harness) -> None:
    """Stopped while idle, a worker is in an SQS long poll; a message that poll brings back
    after the SIGTERM is handed back at once, not left invisible for the visibility timeout."""
    run_id = "stopped-polling"
    with harness.fleet({"SLIPSTREAM_WORKER_POLL_SECONDS": "10"}) as fleet:
        idle = fleet.start(1)
        fleet.wait_started(1)
        time.sleep(1)  # in its poll
        fleet.terminate(1)
        harness.trigger("one", run_id, seconds={"*": 1})
        idle.popen.wait(20)
        assert idle.popen.returncode == 0
        assert harness.entries(run_id, "start") == []  # it did not run what it got after SIGTERM
        fleet.start(2)
        harness.wait_for_run("one", run_id, 30)  # well before the queue's 300 s visibility timeout
    assert harness.entries(run_id, "done") == [("t000", 1, "chaos-2.1")]


def test_a_message_delivered_twice_and_to_two_workers_runs_the_task_once(harness: Harness) -> None:
    run_id = "duplicate"
    sqs = boto3.client("sqs", endpoint_url=harness.info.aws_endpoint_url, region_name=harness.info.region)
    [queue_url] = harness.info.worker_queues.split(",")
    harness.trigger("one", run_id, seconds={"*": 3})
    body = _take_workload(sqs, queue_url, run_id)
    with harness.fleet({"SLIPSTREAM_WORKER_PARALLELISM": "1"}) as fleet:
        for slot in (1, 2):
            fleet.start(slot)
        for slot in (1, 2):
            fleet.wait_started(slot)
        for _ in range(3):  # three copies for two workers that take one message at a time
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        harness.wait_for_run("one", run_id, 60)
        ti_id = harness.tis("one", run_id)["t000"]["id"]
        refused = lambda: _run_refusals(fleet, ti_id)  # noqa: E731
        wait_for(lambda: sum(refused().values()) == 2, 30, "both extra copies to be refused")
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)  # once more, after the end
        wait_for(lambda: sum(refused().values()) == 3, 30, "the late copy to be refused")
        tried = {host for host, count in refused().items() if count} | {harness.entries(run_id, "done")[0][2]}
    print(f"\nduplicates: 4 copies, /run refused 3 (by {dict(refused())}), one try ran")
    assert tried == {"chaos-1.1", "chaos-2.1"}  # both workers had a copy
    assert harness.entries(run_id, "start") == [("t000", 1, harness.entries(run_id, "done")[0][2])]
    assert [(n, state) for n, state, _ in harness.tries("one", run_id, "t000")] == [(1, "success")]


def _take_workload(sqs: Any, queue_url: str, run_id: str) -> str:
    """The queued workload of `run_id`'s task, its message deleted (other messages put back)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            if json.loads(message["Body"])["ti"]["run_id"] == run_id:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                return str(message["Body"])
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    raise AssertionError(f"no message for {run_id}")


def _run_refusals(fleet: Fleet, ti_id: str) -> dict[str, int]:
    """By worker: how many times `/run` answered 409 for `ti_id` (read from the worker's log)."""
    counts = {}
    for worker in fleet.workers.values():
        records = [
            json.loads(line) for line in worker.log_file.read_text().splitlines() if line.startswith("{")
        ]
        counts[worker.name] = sum(
            1
            for r in records
            if r.get("ti_id") == ti_id and r["event"].startswith("PATCH /run failed") and "409" in r["error"]
        )
    return counts


def test_workers_ride_out_an_api_outage_shorter_than_their_retries(harness: Harness) -> None:
    run_id = "short-outage"
    # Backoff waits of 1-2 s instead of up to 90 s: a heartbeat retried through a window lands
    # within 2 s of its end, well inside HEARTBEAT_TIMEOUT (deployed: 90 s against 300 s).
    retries = {"SLIPSTREAM_API_RETRY_WAIT_MAX": "2"}
    with FaultProxy(harness.info.api_url) as proxy, harness.fleet({**_through(proxy), **retries}) as fleet:
        for slot in (1, 2):
            fleet.start(slot)
        harness.trigger("eight", run_id, seconds={"*": 10})
        wait_for(lambda: len(harness.entries(run_id, "start")) == 8, 60, "8 tries to start")
        # Each window is shorter than one call's retries (5 attempts, at least 4 s of backoff).
        for mode in (Mode.UNAVAILABLE, Mode.REFUSED):
            proxy.set_mode(mode)
            time.sleep(3)
            proxy.set_mode(Mode.PASS)
            time.sleep(2)
        back = time.monotonic()
        harness.wait_for_run("eight", run_id, 60)
        finished = time.monotonic() - back
    print(
        f"\nshort outage: 3 s of 503 ({proxy.requests[Mode.UNAVAILABLE]} requests answered 503), 3 s "
        f"refused; run done {finished:.1f} s later"
    )
    assert proxy.requests[Mode.UNAVAILABLE] > 0
    tis = harness.tis("eight", run_id).values()
    assert {(ti["state"], ti["try_number"]) for ti in tis} == {("success", 1)}
    assert len(harness.entries(run_id, "done")) == 8


def test_after_an_api_outage_longer_than_the_retries_nothing_is_lost_or_stuck(harness: Harness) -> None:
    run_id = "long-outage"
    # 4 slots for 8 tasks: the second wave is taken from the queue while the API is away.
    slots = {"SLIPSTREAM_WORKER_PARALLELISM": "2"}
    with FaultProxy(harness.info.api_url) as proxy, harness.fleet({**_through(proxy), **slots}) as fleet:
        for slot in (1, 2):
            fleet.start(slot)
        harness.trigger("eight", run_id, seconds={"*": 2})
        wait_for(lambda: len(harness.entries(run_id, "start")) >= 2, 60, "tries to start")
        proxy.set_mode(Mode.REFUSED)
        time.sleep(15)
        proxy.set_mode(Mode.PASS)
        back = time.monotonic()
        harness.wait_for_run("eight", run_id, 90)
        recovered = time.monotonic() - back
    tries = {task: harness.tries("eight", run_id, task) for task in harness.tis("eight", run_id)}
    done = harness.entries(run_id, "done")
    print(
        f"\nlong outage: 15 s refused; run done {recovered:.1f} s after the API came back, "
        f"{sum(len(t) - 1 for t in tries.values())} retries, {len(done) - 8} bodies run again"
    )
    for task_tries in tries.values():
        assert [state for _, state, _ in task_tries].count("success") == 1
        assert task_tries[-1][1] == "success"
    assert len({(task, try_number) for task, try_number, _ in done}) == len(done)  # no try ran twice


def _through(proxy: FaultProxy) -> dict[str, str]:
    return {"SLIPSTREAM_EXECUTION_API_URL": f"{proxy.url}/execution/"}
