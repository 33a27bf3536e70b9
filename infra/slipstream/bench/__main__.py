"""Run every benchmark area, print one table (with targets), write bench-results.json."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from slipstream.local.moto import use_offline_credentials

RESULTS = Path("bench-results.json")
TARGETS = {
    "api.heartbeat.own_ms": 1,
    "api.cold_start_ms": 1000,
    "scheduler.latency_ms": 50,
    "worker.overhead_ms": 10,
    "task.http_calls": 3,
    "task.ddb_round_trips": 6,
}
"""Upper bounds the figures should stay within."""


def main() -> int:
    use_offline_credentials()
    _quiet()
    from slipstream.bench import api, interop, scheduler, worker

    areas: list[tuple[str, Callable[[], dict[str, float]]]] = [
        ("Execution API, warm (Mangum in-process, moto)", api.warm),
        ("Execution API, cold start (fresh interpreter, moto server)", api.cold),
        ("Scheduling a >> b (handlers and stream poller in-process, moto server)", scheduler.latency),
        ("No-op tasks, one worker of parallelism 4 (local stack)", worker.noop_tasks),
        ("Interop: the same no-op DAG, Slipstream's runtime vs Airflow's (local stack)", interop.overhead),
    ]
    results: dict[str, float] = {}
    for title, run in areas:
        print(f"\n{title}", flush=True)
        figures = run()
        for name, value in figures.items():
            print(f"  {name:<42} {value:>10}  {_verdict(name, value)}".rstrip(), flush=True)
        results.update(figures)
    RESULTS.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"\nwrote {RESULTS} ({len(results)} figures)")
    return 0


def _verdict(name: str, value: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return ""
    return f"target <= {target}: {'ok' if value <= target else 'OVER'}"


def _quiet() -> None:
    """Keep the table readable: the functions log at WARNING (they log every finished run at
    INFO), moto's server does not log each request, and the stack's warning that it killed an idle
    worker (its SQS long poll outlasts the stop timeout, by design) is not shown."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("slipstream.local.processes").setLevel(logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
