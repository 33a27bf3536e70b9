"""`slipstream runs ...`: trigger DAG runs, follow them, list and show them."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any, TextIO

from slipstream.cli._api import ManagementApi, add_target_arguments, command, connect, segment

FINISHED = frozenset({"success", "failed"})
TI_FIELDS = ("task_id", "map_index", "state", "try_number", "start_date", "end_date")


def register(commands: Any) -> None:
    runs = commands.add_parser("runs", help="trigger, follow and inspect DAG runs")
    actions = runs.add_subparsers(dest="action", required=True, metavar="ACTION")

    trigger = actions.add_parser("trigger", help="start a run of a DAG")
    trigger.add_argument("dag_id")
    trigger.add_argument("--conf", type=json.loads, default=None, help="the run's conf, a JSON object")
    trigger.add_argument("--run-id", help="default: the API's manual__<date> id")
    trigger.add_argument("--wait", action="store_true", help="follow the run until it ends; fail if it fails")
    trigger.add_argument("--json", action="store_true", help="print only the run (the final one with --wait)")
    trigger.set_defaults(handler=_trigger)

    listing = actions.add_parser("list", help="the runs of one DAG, or of every DAG")
    listing.add_argument("dag_id", nargs="?")
    listing.set_defaults(handler=_list)

    show = actions.add_parser("show", help="one run and its task instances")
    show.add_argument("dag_id")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    for parser in (trigger, listing, show):
        add_target_arguments(parser)


def summary(run: dict[str, Any]) -> dict[str, Any]:
    """A run as `--json` prints it."""
    return {
        "dag_id": run["dag_id"],
        "run_id": run["run_id"],
        "state": run["state"],
        "task_instances": [{field: ti.get(field) for field in TI_FIELDS} for ti in run["task_instances"]],
    }


def task_label(ti: dict[str, Any]) -> str:
    """`task_id`, with `[map_index]` for a mapped task instance."""
    return str(ti["task_id"]) + (f"[{ti['map_index']}]" if ti.get("map_index", -1) >= 0 else "")


def task_row(ti: dict[str, Any]) -> str:
    duration = f"{ti['duration']:.1f}s" if ti.get("duration") is not None else "-"
    return f"  {task_label(ti):<24} {ti['state'] or 'none':<20} try {ti.get('try_number', 0):<3} {duration}"


class RunWatcher:
    """Follows runs until they finish, printing each change of a run's or a task's state."""

    def __init__(self, api: ManagementApi, out: TextIO, *, name_dags: bool = False) -> None:
        self._api = api
        self._out = out
        self._name_dags = name_dags
        self._seen: dict[tuple[str, ...], tuple[Any, ...]] = {}
        self.runs: dict[tuple[str, str], dict[str, Any]] = {}
        """The latest state of every run followed, by (dag_id, run_id)."""

    def add(self, dag_id: str, run_id: str) -> None:
        self.runs[(dag_id, run_id)] = {
            "dag_id": dag_id,
            "run_id": run_id,
            "state": "queued",
            "task_instances": [],
        }

    @property
    def active(self) -> bool:
        return any(run["state"] not in FINISHED for run in self.runs.values())

    def poll(self) -> None:
        for key, run in list(self.runs.items()):
            if run["state"] not in FINISHED:
                self.runs[key] = run = self._api.run(*key)
                self._report(run)

    def wait(self, interval: float = 0.5, timeout: float | None = None) -> None:
        """Poll until every run has finished, or for `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.active and (deadline is None or time.monotonic() < deadline):
            self.poll()
            if self.active:
                time.sleep(interval)

    def _report(self, run: dict[str, Any]) -> None:
        label = f"{run['dag_id']} " if self._name_dags else ""
        for ti in run["task_instances"]:
            task = task_label(ti)
            tries = f" (try {ti['try_number']})" if ti.get("try_number", 0) > 1 else ""
            self._print(
                (run["dag_id"], run["run_id"], task),
                (ti["state"], ti.get("try_number")),
                f"{label}{task}: {ti['state']}{tries}",
            )
        self._print(
            (run["dag_id"], run["run_id"]), (run["state"],), f"{label}run {run['run_id']}: {run['state']}"
        )

    def _print(self, key: tuple[str, ...], value: tuple[Any, ...], line: str) -> None:
        if self._seen.get(key) != value:
            self._seen[key] = value
            print(f"{datetime.now():%H:%M:%S} {line}", file=self._out, flush=True)


@command
def _trigger(args: argparse.Namespace) -> int:
    api = connect(args)
    body: dict[str, Any] = {"conf": args.conf or {}}
    if args.run_id:
        body["dag_run_id"] = args.run_id
    created = api.request("POST", f"/dags/{segment(args.dag_id)}/dagRuns", json=body)
    run_id = str(created["dag_run_id"])
    if not args.wait:
        if args.json:
            print(json.dumps(summary(api.run(args.dag_id, run_id))))
        else:
            print(run_id)
        return 0
    watcher = RunWatcher(api, sys.stderr if args.json else sys.stdout)
    watcher.add(args.dag_id, run_id)
    watcher.wait()
    run = watcher.runs[(args.dag_id, run_id)]
    if args.json:
        print(json.dumps(summary(run)))
    return 0 if run["state"] == "success" else 1


@command
def _list(args: argparse.Namespace) -> int:
    api = connect(args)
    dag_ids = [args.dag_id] if args.dag_id else [dag["dag_id"] for dag in api.get("/dags")["dags"]]
    for dag_id in dag_ids:
        for run in api.runs(dag_id):
            start = run.get("start_date") or "-"
            print(f"{dag_id}\t{run['dag_run_id']}\t{run['state']}\t{run.get('run_type', '-')}\t{start}")
    return 0


@command
def _show(args: argparse.Namespace) -> int:
    run = connect(args).run(args.dag_id, args.run_id)
    if args.json:
        print(json.dumps(summary(run)))
        return 0
    print(f"{run['dag_id']} {run['run_id']}: {run['state']} ({run.get('run_type', '-')})")
    for ti in run["task_instances"]:
        print(task_row(ti))
    return 0
