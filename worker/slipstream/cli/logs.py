"""`slipstream logs DAG_ID RUN_ID TASK_ID`: what a task printed, from the management API."""

from __future__ import annotations

import argparse
import json
from typing import Any

from slipstream.cli._api import CommandError, add_target_arguments, command, connect, segment
from slipstream.worker.logs import RAW_LOGGER

# Loggers of the lines a task printed: stdout, stderr, and lines that were not JSON records.
# (Airflow's runtime logs its own records as `task`: those are not what the task printed.)
PRINTED = frozenset({"task.stdout", "task.stderr", RAW_LOGGER})


def register(commands: Any) -> None:
    parser = commands.add_parser("logs", help="print what a task printed (its latest try by default)")
    parser.add_argument("dag_id")
    parser.add_argument("run_id")
    parser.add_argument("task_id")
    parser.add_argument("--try", dest="try_number", type=int, help="which try (default: the latest)")
    parser.add_argument("--map-index", type=int, default=-1)
    parser.add_argument("--all", action="store_true", help="every record, not only the printed lines")
    add_target_arguments(parser)
    parser.set_defaults(handler=_logs)


@command
def _logs(args: argparse.Namespace) -> int:
    api = connect(args)
    try_number = args.try_number
    if try_number is None:
        tis = api.run(args.dag_id, args.run_id)["task_instances"]
        ti = next(
            (t for t in tis if (t["task_id"], t.get("map_index", -1)) == (args.task_id, args.map_index)), None
        )
        if ti is None:
            raise CommandError(f"run {args.run_id} of {args.dag_id} has no task {args.task_id!r}")
        try_number = ti["try_number"]
    path = (
        f"/dags/{segment(args.dag_id)}/dagRuns/{segment(args.run_id)}/taskInstances/{segment(args.task_id)}"
    )
    params = {"map_index": args.map_index} if args.map_index >= 0 else {}
    content = api.get(f"{path}/logs/{try_number}", **params)["content"]
    for record in records(content):
        if args.all:
            where = f"{record.get('timestamp', '')} {record.get('level', '')} {record.get('logger', '')}"
            print(f"{where}: {record['event']}")
            if "error_detail" in record:
                print(record["error_detail"], end="")
        elif record.get("logger") in PRINTED:
            print(record["event"])
    return 0


def records(content: Any) -> list[dict[str, Any]]:
    """The log's records, whether the API sends the file's JSON lines as text or a list of records."""
    lines = content.splitlines() if isinstance(content, str) else content or []
    out: list[dict[str, Any]] = []
    for line in lines:
        record = line
        if isinstance(line, str):
            try:
                record = json.loads(line)
            except ValueError:
                record = {"event": line, "logger": RAW_LOGGER}
        if isinstance(record, dict) and "event" in record:
            out.append(record)
    return out
