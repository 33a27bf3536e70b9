"""`slipstream worker`: run tasks from the SQS queues (see `slipstream.worker.worker`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    parser = commands.add_parser("worker", help="run tasks from SQS queues until SIGTERM")
    parser.add_argument(
        "--queue",
        action="append",
        metavar="Q",
        help="queue URL or name to poll (repeatable; default: SLIPSTREAM_WORKER_QUEUES)",
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        metavar="N",
        help="tasks run at once (default: SLIPSTREAM_WORKER_PARALLELISM)",
    )
    parser.add_argument(
        "--runtime",
        choices=["slipstream", "airflow"],
        help="what runs each try: Slipstream's Supervisor, or Airflow's own task runtime under "
        "SLIPSTREAM_AIRFLOW_PYTHON (default: SLIPSTREAM_WORKER_RUNTIME, else slipstream)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from slipstream.worker.settings import get_settings
    from slipstream.worker.worker import Worker

    settings = get_settings()
    if args.runtime:
        settings = settings.model_copy(update={"worker_runtime": args.runtime})
    if settings.worker_runtime == "airflow" and settings.airflow_python is None:
        print("slipstream worker: --runtime airflow needs SLIPSTREAM_AIRFLOW_PYTHON", file=sys.stderr)
        return 2
    queues = args.queue or settings.worker_queues
    Worker(settings, queues, args.parallelism or settings.worker_parallelism).run()
    return 0
