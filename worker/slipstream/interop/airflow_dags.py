"""Prints the Slipstream DAG documents of DAG files written with `airflow.sdk`, as a JSON list.

Run by `slipstream dags register --format airflow` under Airflow's Python, never imported by
Slipstream: `python airflow_dags.py --bundle-root R --bundle-name N PATH...`. Files are parsed
with `BundleDagBag`, the parser Airflow's task runtime uses on the worker, so what is registered
is what will run. Import errors, and what Slipstream cannot schedule (mapped tasks, timetables
other than cron, interval and assets), end the command with status 1 and say why on stderr.
The documents follow docs/dag-document.schema.json.
"""

from __future__ import annotations

import json
import os
from argparse import ArgumentParser
from datetime import timedelta
from pathlib import Path
from typing import Any

# Airflow's venv has these; Slipstream's (where mypy runs) has not.
from airflow.dag_processing.dagbag import BundleDagBag  # type: ignore[import-not-found]
from airflow.sdk import Asset, AssetAll  # type: ignore[import-not-found]
from airflow.sdk.definitions.mappedoperator import MappedOperator  # type: ignore[import-not-found]
from airflow.sdk.definitions.timetables import _cron, _delta, assets, simple  # type: ignore[import-not-found]

SCHEMA_VERSION = 1


class Unsupported(ValueError):
    """Something the DAG uses that Slipstream does not schedule."""


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


def _schedule(dag: Any) -> dict[str, Any] | None:
    timetable = dag.timetable
    if isinstance(timetable, simple.NullTimetable):
        return None
    if isinstance(timetable, _cron.CronMixin):
        return {"cron": timetable.expression}
    if isinstance(timetable, _delta.DeltaMixin) and isinstance(timetable.delta, timedelta):
        return {"interval_seconds": int(timetable.delta.total_seconds())}
    if type(timetable) is assets.AssetTriggeredTimetable:
        condition = timetable.asset_condition
        members = condition.objects if isinstance(condition, AssetAll) else [condition]
        if all(isinstance(member, Asset) for member in members):
            return {"assets": [member.name for member in members]}
    raise Unsupported(f"DAG {dag.dag_id!r}: schedule {timetable!r} is not supported by Slipstream")


def _task(task: Any) -> dict[str, Any]:
    if isinstance(task, MappedOperator):
        raise Unsupported(f"task {task.task_id!r}: dynamic task mapping is not supported by Slipstream")
    return {
        "task_id": task.task_id,
        "upstream": sorted(task.upstream_task_ids),
        "trigger_rule": str(task.trigger_rule.value),
        "retries": task.retries,
        "retry_delay": task.retry_delay.total_seconds(),
        # Airflow 3.3 takes a backoff multiplier; Slipstream's scheduler doubles (any positive value).
        "retry_exponential_backoff": bool(task.retry_exponential_backoff),
        "max_retry_delay": _seconds(task.max_retry_delay),
        "execution_timeout": _seconds(task.execution_timeout),
        "queue": task.queue,
        "operator": task.operator_name,
        "outlets": [{"name": a.name, "uri": a.uri} for a in task.outlets if isinstance(a, Asset)],
    }


def document(dag: Any, bundle_name: str) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "dag_id": dag.dag_id,
        "fileloc": Path(dag.relative_fileloc).as_posix(),
        "bundle_name": bundle_name,
        "fail_fast": dag.fail_fast,
        "max_active_runs": dag.max_active_runs,
        "max_active_tasks": dag.max_active_tasks,
        "schedule": _schedule(dag),
        "start_date": None if dag.start_date is None else dag.start_date.isoformat(),
        "catchup": dag.catchup,
        "params": json.loads(json.dumps(dag.params.dump(), default=str)),
        "tags": sorted(dag.tags),
        "tasks": [_task(task) for task in sorted(dag.tasks, key=lambda t: t.task_id)],
        **({} if dag.dagrun_timeout is None else {"dagrun_timeout": dag.dagrun_timeout.total_seconds()}),
    }


def documents(paths: list[Path], bundle_root: Path, bundle_name: str) -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for path in paths:
        bag = BundleDagBag(
            dag_folder=path.resolve(),
            safe_mode=False,
            load_op_links=False,
            bundle_path=bundle_root.resolve(),
            bundle_name=bundle_name,
        )
        errors.update(bag.import_errors)
        for dag_id, dag in bag.dags.items():
            try:
                found[dag_id] = document(dag, bundle_name)
            except Unsupported as exc:
                errors[dag.relative_fileloc] = str(exc)
    if errors:
        raise SystemExit("\n".join(f"{file}: {error}" for file, error in sorted(errors.items())))
    return [found[dag_id] for dag_id in sorted(found)]


def main() -> None:
    parser = ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    parser.add_argument("--bundle-root", type=Path, required=True)
    parser.add_argument("--bundle-name", default="dags-folder")
    args = parser.parse_args()
    # Only the documents go to stdout: DAG files' prints and Airflow's logs go to stderr.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    result = documents(args.paths, args.bundle_root, args.bundle_name)
    json.dump(result, out)
    out.close()


if __name__ == "__main__":
    main()
