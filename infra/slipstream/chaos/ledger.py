"""A DAG whose tasks leave a trace of every try in a file, outside anything Slipstream controls.

Each try of a task appends a `start` line when its body begins and a `done` line when it is about
to return, with its try number and the host name of the worker incarnation that ran it (appends of
one short line are atomic). The API says which try succeeded; the ledger says which bodies ran to
completion: together they tell a lost task, a body run twice for one try, and a body that completed
in a try whose worker died before it could report it.

A run's conf can set the seconds each task sleeps between the two lines: `seconds` (every try) and
`first_try_seconds` (try 1 only), each `{"<task_id>": s}` with a `"*"` default.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_DAG = """
import json
import os
import time

from slipstream.sdk import dag, get_current_context, task

LEDGER = {ledger!r}


def _append(event):
    ti = get_current_context()["ti"]
    line = json.dumps(
        {{
            "event": event,
            "run": ti.run_id,
            "task": ti.task_id,
            "try": ti.try_number,
            "host": os.environ.get("SLIPSTREAM_HOSTNAME", ""),
        }}
    )
    fd = os.open(LEDGER, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode() + b"\\n")
    finally:
        os.close(fd)


def _seconds(conf, name, task_id):
    durations = conf.get(name) or {{}}
    return durations.get(task_id, durations.get("*"))


@dag(schedule=None, max_active_runs={max_active_runs}, max_active_tasks={max_active_tasks})
def {dag_id}():
    @task(retries={retries}, retry_delay=0)
    def work():
        context = get_current_context()
        task_id, conf = context["ti"].task_id, context["conf"]
        _append("start")
        seconds = _seconds(conf, "first_try_seconds", task_id) if context["try_number"] == 1 else None
        if seconds is None:
            seconds = _seconds(conf, "seconds", task_id)
        time.sleep(seconds or 0)
        _append("done")

    for n in range({tasks}):
        work.override(task_id=f"t{{n:03}}")()


{dag_id}()
"""


@dataclass(frozen=True)
class Entry:
    event: str
    run: str
    task: str
    try_number: int
    host: str


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write_dag(
        self,
        dags_folder: Path,
        dag_id: str,
        tasks: int,
        *,
        retries: int = 3,
        max_active_runs: int = 16,
        max_active_tasks: int = 16,
    ) -> None:
        """`dags_folder/<dag_id>.py`: `tasks` independent tasks `t000`, `t001`, ..."""
        source = _DAG.format(
            ledger=str(self.path),
            dag_id=dag_id,
            tasks=tasks,
            retries=retries,
            max_active_runs=max_active_runs,
            max_active_tasks=max_active_tasks,
        )
        (dags_folder / f"{dag_id}.py").write_text(source)

    def entries(self, event: str | None = None) -> list[Entry]:
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text().splitlines():
            record = json.loads(line)
            if event is None or record["event"] == event:
                found.append(
                    Entry(record["event"], record["run"], record["task"], record["try"], record["host"])
                )
        return found

    def busy_hosts(self) -> set[str]:
        """Hosts with a body started and not done: a worker running a try (or killed in one)."""
        entries = self.entries()
        done = {(e.run, e.task, e.try_number, e.host) for e in entries if e.event == "done"}
        return {
            e.host
            for e in entries
            if e.event == "start" and (e.run, e.task, e.try_number, e.host) not in done
        }

    def count(self, event: str) -> Counter[tuple[str, str]]:
        """How many `event` lines each (run, task) has."""
        return Counter((entry.run, entry.task) for entry in self.entries(event))
