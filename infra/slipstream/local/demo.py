"""`slipstream demo`: every example in examples/, end to end, on a fresh local stack.

It sets the examples' variables and connections (variables.json, connections.json), registers and
unpauses their DAGs, triggers the manual ones and waits for the runs the others get from the
scheduler, following them all live, then prints a summary and stops the stack. An example's tags
say what it expects: `demo:expect=<state>` (default `success`) and `demo:trigger=asset` or
`demo:trigger=schedule` for DAGs the demo does not trigger itself. The exit status is 1 if any run
ends otherwise.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from slipstream.cli._api import ManagementApi, segment
from slipstream.cli.connections import CONNECTIONS
from slipstream.cli.dags import documents
from slipstream.cli.runs import RunWatcher, task_row
from slipstream.cli.variables import VARIABLES
from slipstream.local.moto import free_port
from slipstream.local.stack import LocalStack, log_to_stderr, stop_on_signals

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
TIMEOUT = 150.0
RUN_TYPES = {"manual": "manual", "asset": "asset_triggered", "schedule": "scheduled"}


@dataclass
class Example:
    dag_id: str
    trigger: str
    expect: str
    run_id: str | None = None

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Example:
        tags = dict(tag.split("=", 1) for tag in document["tags"] if tag.startswith("demo:") and "=" in tag)
        return cls(document["dag_id"], tags.get("demo:trigger", "manual"), tags.get("demo:expect", "success"))


def demo(examples: Path = EXAMPLES, workers: int = 2) -> int:
    log_to_stderr()
    stop_on_signals()
    dags = documents(examples)
    try:
        stack = LocalStack(free_port(), workers, examples)
        with stack as info:
            print(f"Local stack up at {info.api_url} with {workers} workers.\n", flush=True)
            api = ManagementApi(info.api_url, info.admin_token)
            watcher = RunWatcher(api, sys.stdout, name_dags=True)
            plan = _start(api, examples, dags, watcher)
            _follow(api, plan, watcher)
            return _summarize(plan, watcher, stack.task_log_dir)
    except KeyboardInterrupt:
        return 130


def _start(
    api: ManagementApi, examples: Path, dags: list[dict[str, Any]], watcher: RunWatcher
) -> list[Example]:
    for collection in (VARIABLES, CONNECTIONS):
        entries = json.loads((examples / f"{collection.name}.json").read_text())
        for key, value in entries.items():
            text = value if isinstance(value, str) else json.dumps(value)
            api.upsert(f"/{collection.name}", key, collection.body(key, text))
    plan = [Example.from_document(document) for document in dags]
    for document in dags:
        api.request("POST", "/dags", json=document)
        api.request("PATCH", f"/dags/{segment(document['dag_id'])}", json={"is_paused": False})
    print(f"Registered {len(dags)} DAGs from {examples}.\n", flush=True)
    for example in plan:
        if example.trigger == "manual":
            created = api.request("POST", f"/dags/{segment(example.dag_id)}/dagRuns", json={"conf": {}})
            example.run_id = str(created["dag_run_id"])
            watcher.add(example.dag_id, example.run_id)
            watcher.poll()  # progress shows while the rest are triggered
    return plan


def _follow(api: ManagementApi, plan: list[Example], watcher: RunWatcher) -> None:
    """Follow the runs, adopting each scheduler-made run as soon as it appears."""
    deadline = time.monotonic() + TIMEOUT
    awaited = [example for example in plan if example.run_id is None]
    while (watcher.active or awaited) and time.monotonic() < deadline:
        for example in list(awaited):
            run_type = RUN_TYPES[example.trigger]
            found = [run for run in api.runs(example.dag_id) if run.get("run_type") == run_type]
            if found:
                example.run_id = str(found[0]["dag_run_id"])
                watcher.add(example.dag_id, example.run_id)
                awaited.remove(example)
        watcher.poll()
        time.sleep(0.5)


def _summarize(plan: list[Example], watcher: RunWatcher, task_logs: Path) -> int:
    print("\nSummary")
    unexpected = 0
    for example in plan:
        run = watcher.runs.get((example.dag_id, example.run_id or ""))
        state = run["state"] if run else "no run"
        verdict = "as expected" if state == example.expect else f"UNEXPECTED, expected {example.expect}"
        unexpected += state != example.expect
        print(f"\n{example.dag_id} {example.run_id or '(' + example.trigger + ' run)'}: {state} ({verdict})")
        for ti in run["task_instances"] if run else []:
            print(task_row(ti))
    print(f"\nTask logs: {task_logs}/dag_id=<dag>/run_id=<run>/task_id=<task>/ (JSON lines, one file a try);")
    print("while a stack runs, `slipstream logs DAG_ID RUN_ID TASK_ID` prints what a task printed.")
    print(f"\n{len(plan) - unexpected} of {len(plan)} runs ended as expected.")
    return 1 if unexpected else 0
