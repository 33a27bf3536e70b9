"""`slipstream worker`: run tasks from the SQS queues (see `slipstream.worker.worker`)."""

from __future__ import annotations

import argparse
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
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from slipstream.worker.settings import get_settings
    from slipstream.worker.worker import Worker

    settings = get_settings()
    queues = args.queue or settings.worker_queues
    Worker(settings, queues, args.parallelism or settings.worker_parallelism).run()
    return 0
