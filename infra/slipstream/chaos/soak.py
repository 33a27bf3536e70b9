"""The soak: many DAG runs on a fleet of workers while workers are SIGKILLed at random and replaced,
as ECS replaces a task that died. It counts what matters: a task lost (a run that does not end in
success), a task run twice to success (two successful tries in the API, or one try's body
completed twice in the ledger), and the price of the kills (retries, throughput).

A body may complete in a try that does not succeed: its worker died between the body's end and
the state report, and the retry runs it again. That is at-least-once execution, the contract of
every Airflow executor; the soak counts those bodies and requires each to be on a killed worker.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from slipstream.chaos.fleet import Fleet
from slipstream.chaos.ledger import Ledger
from slipstream.cli._api import ManagementApi, segment
from slipstream.cli.dags import documents
from slipstream.local.stack import StackInfo

DAG_ID = "soak"
SERVER_SETTINGS = {
    "SLIPSTREAM_LOCAL_TIMER_SECONDS": "1",
    "SLIPSTREAM_HEARTBEAT_TIMEOUT": "10",
    # A message taken by a worker that is then killed before `/run` stays invisible for the queue's
    # visibility timeout (300 s); the timer sends it again after this.
    "SLIPSTREAM_QUEUED_RESEND_SECONDS": "30",
}
"""The stack's settings: zombies found within about 11 s of a kill."""
BACKLOG = 4
"""Runs triggered and not ended at any time: the DAG's 3 active runs and one waiting. Triggering
every run at once makes each trigger slower than the last (they all wait in the DAG's queue)."""
WORKER_SETTINGS = {"SLIPSTREAM_HEARTBEAT_INTERVAL": "2", "SLIPSTREAM_WORKER_PARALLELISM": "4"}


@dataclass(frozen=True)
class Plan:
    runs: int = 100
    tasks_per_run: int = 20
    workers: int = 4
    task_seconds: float = 0.5
    kill_every: tuple[float, float] = (5.0, 15.0)
    """Seconds between two kills, drawn uniformly."""
    max_kills: int | None = None
    """Kills after which the workers are left alone (None: no limit)."""
    restart_after: float = 1.0
    timeout: float = 3600.0
    seed: int = 0

    @property
    def tasks(self) -> int:
        return self.runs * self.tasks_per_run


@dataclass
class Figures:
    tasks: int
    runs: int
    workers: int
    kills: int = 0
    duration: float = 0.0
    runs_not_success: int = 0
    tasks_not_success: int = 0
    successes_twice: int = 0
    """Tasks with more than one successful try, plus tries whose body completed more than once."""
    retries_after_kill: int = 0
    """Tries that did not succeed, run by a worker that was killed."""
    retries_other: int = 0
    """Tries that did not succeed, run by a worker that was not killed."""
    bodies_unreported: int = 0
    """Bodies completed in a try that did not succeed, on a killed worker (at-least-once)."""
    bodies_unexplained: int = 0
    """Bodies completed in a try that did not succeed, on a worker that was not killed."""
    problems: list[str] = field(default_factory=list)

    @property
    def tasks_per_second(self) -> float:
        return self.tasks / self.duration if self.duration else 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.runs_not_success
            or self.tasks_not_success
            or self.successes_twice
            or self.retries_other
            or self.bodies_unexplained
        )

    def lines(self) -> list[str]:
        return [
            f"tasks                      {self.tasks} in {self.runs} runs, {self.workers} workers",
            f"duration                   {self.duration:.0f} s ({self.tasks_per_second:.2f} tasks/s)",
            f"workers SIGKILLed          {self.kills}",
            f"retries caused by kills    {self.retries_after_kill}",
            f"other retries              {self.retries_other}",
            f"lost                       {self.tasks_not_success} tasks, {self.runs_not_success} runs",
            f"run twice to success       {self.successes_twice}",
            f"bodies re-run after a kill {self.bodies_unreported} (worker killed between body and report)",
            f"bodies re-run otherwise    {self.bodies_unexplained}",
            *(f"problem: {problem}" for problem in self.problems[:20]),
            f"verdict                    {'ok' if self.ok else 'FAILED'}",
        ]


def soak(info: StackInfo, root: Path, plan: Plan, out: TextIO) -> Figures:
    """Run `plan` against the stack `info` (which has no workers of its own); `root` holds the DAG,
    the ledger and the workers' logs."""
    dags = root / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    ledger = Ledger(root / "ledger.jsonl")
    ledger.write_dag(dags, DAG_ID, plan.tasks_per_run, retries=10, max_active_runs=3)
    api = ManagementApi(info.api_url, info.admin_token)
    for document in documents(dags):
        api.request("POST", "/dags", json=document)
    api.request("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
    figures = Figures(plan.tasks, plan.runs, plan.workers)
    run_ids = [f"soak-{n:04}" for n in range(plan.runs)]
    with Fleet(info, dags, root / "state", WORKER_SETTINGS) as fleet:
        started = time.monotonic()
        for slot in range(plan.workers):
            fleet.start(slot)
        figures.kills = _drive(api, fleet, ledger, plan, run_ids, out)
        figures.duration = time.monotonic() - started
    triggered = {run["dag_run_id"] for run in api.get(f"/dags/{DAG_ID}/dagRuns", limit=1000)["dag_runs"]}
    figures.runs_not_success += len(set(run_ids) - triggered)
    _check(api, ledger, fleet.killed, [run_id for run_id in run_ids if run_id in triggered], figures)
    return figures


def _drive(
    api: ManagementApi, fleet: Fleet, ledger: Ledger, plan: Plan, run_ids: list[str], out: TextIO
) -> int:
    """Trigger the runs, `BACKLOG` at a time, and kill a random worker now and then (replacing it)
    until every run has ended; returns the number of kills. A worker running a task body is
    chosen when there is one: killing an idle worker tests nothing (three idle kills in a row
    made the shortened soak assert that no kill interrupted a try)."""
    rng = random.Random(plan.seed)
    started = now = time.monotonic()
    next_kill = now + rng.uniform(*plan.kill_every)
    restarts: dict[int, float] = {}
    kills = 0
    next_report = now
    pending = list(run_ids)
    conf = {"seconds": {"*": plan.task_seconds}}
    while (unfinished := _unfinished(api)) or pending:
        while pending and unfinished < BACKLOG:
            body = {"dag_run_id": pending.pop(0), "conf": conf}
            api.request("POST", f"/dags/{DAG_ID}/dagRuns", json=body)
            unfinished += 1
        now = time.monotonic()
        if now > started + plan.timeout:
            print(f"timed out after {plan.timeout:.0f} s", file=out, flush=True)
            break
        running = [slot for slot in range(plan.workers) if slot not in restarts]
        if now >= next_kill and running and (plan.max_kills is None or kills < plan.max_kills):
            busy = ledger.busy_hosts()
            slot = rng.choice([s for s in running if fleet.workers[s].name in busy] or running)
            fleet.kill(slot)
            kills += 1
            restarts[slot] = now + plan.restart_after
            next_kill = now + rng.uniform(*plan.kill_every)
        for slot, at in list(restarts.items()):
            if now >= at:
                fleet.start(slot)
                del restarts[slot]
        if now >= next_report:
            done = sum(ledger.count("done").values())
            print(f"{now - started:6.0f} s  {done:5} bodies done  {kills:3} kills", file=out, flush=True)
            next_report = now + 15
        time.sleep(1)
    return kills


def _unfinished(api: ManagementApi) -> int:
    runs = api.get(f"/dags/{DAG_ID}/dagRuns", limit=1000)["dag_runs"]
    return sum(run["state"] not in ("success", "failed") for run in runs)


def _check(
    api: ManagementApi, ledger: Ledger, killed: set[str], run_ids: list[str], figures: Figures
) -> None:
    """Compare the API's view of every task with the ledger's."""
    done = Counter((entry.run, entry.task, entry.try_number) for entry in ledger.entries("done"))
    done_hosts = {(entry.run, entry.task, entry.try_number): entry.host for entry in ledger.entries("done")}
    figures.successes_twice += sum(1 for count in done.values() if count > 1)
    for run_id in run_ids:
        run = api.get(f"/dags/{DAG_ID}/dagRuns/{segment(run_id)}")
        if run["state"] != "success":
            figures.runs_not_success += 1
            figures.problems.append(f"run {run_id} is {run['state']}")
        tis = api.get(f"/dags/{DAG_ID}/dagRuns/{segment(run_id)}/taskInstances", limit=1000)
        for ti in tis["task_instances"]:
            tries = _tries(api, run_id, ti)
            successes = [t["try_number"] for t in tries if t["state"] == "success"]
            if ti["state"] != "success" or (run_id, ti["task_id"], ti["try_number"]) not in done:
                figures.tasks_not_success += 1
                figures.problems.append(f"{run_id} {ti['task_id']}: {ti['state']}, try {ti['try_number']}")
            if len(successes) > 1:
                figures.successes_twice += 1
                figures.problems.append(f"{run_id} {ti['task_id']} succeeded in tries {successes}")
            for other in (t for t in tries if t["state"] != "success"):
                if other.get("hostname") in killed:
                    figures.retries_after_kill += 1
                else:
                    figures.retries_other += 1
                    figures.problems.append(f"{run_id} {ti['task_id']} try {other['try_number']}: {other}")
            for try_number in range(1, ti["try_number"]):
                host = done_hosts.get((run_id, ti["task_id"], try_number))
                if host is None:
                    continue
                if host in killed:
                    figures.bodies_unreported += 1
                else:
                    figures.bodies_unexplained += 1
                    figures.problems.append(f"{run_id} {ti['task_id']} try {try_number} completed on {host}")


def _tries(api: ManagementApi, run_id: str, ti: dict[str, Any]) -> list[dict[str, Any]]:
    if ti["try_number"] <= 1:
        return [ti]
    path = f"/dags/{DAG_ID}/dagRuns/{segment(run_id)}/taskInstances/{segment(ti['task_id'])}/tries"
    tries: list[dict[str, Any]] = api.get(path)["task_instances"]
    return tries
