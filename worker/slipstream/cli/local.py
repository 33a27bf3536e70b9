"""`slipstream local up`: the whole system on one machine; `slipstream local aws`: only its AWS side
(see `slipstream.local.stack`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    local = commands.add_parser("local", help="run Slipstream on this machine")
    actions = local.add_subparsers(dest="action", required=True, metavar="ACTION")
    up = actions.add_parser("up", help="start the local stack in the foreground (Ctrl-C stops it)")
    up.add_argument(
        "--port", type=int, default=8080, help="port of the HTTP API on 127.0.0.1 (default: 8080)"
    )
    up.add_argument("--workers", type=int, default=2, metavar="N", help="worker processes (default: 2)")
    up.add_argument(
        "--dags-folder",
        type=Path,
        default=Path(os.environ.get("SLIPSTREAM_DAGS_FOLDER", "dags")),
        metavar="DIR",
        help="the workers' DAG folder (default: SLIPSTREAM_DAGS_FOLDER, else ./dags)",
    )
    up.add_argument(
        "--runtime",
        choices=["slipstream", "airflow"],
        default="slipstream",
        help="the workers' runtime (`airflow`: Airflow's own, under SLIPSTREAM_AIRFLOW_PYTHON)",
    )
    up.set_defaults(handler=_up)
    aws = actions.add_parser(
        "aws", help="serve only the AWS side (moto with the template's resources), e.g. for sam local"
    )
    aws.add_argument("--port", type=int, default=5000, help="moto's port on 127.0.0.1 (default: 5000)")
    aws.set_defaults(handler=_aws)


def _up(args: argparse.Namespace) -> int:
    from slipstream.local.stack import up

    return up(args.port, args.workers, args.dags_folder, args.runtime)


def _aws(args: argparse.Namespace) -> int:
    from slipstream.local.stack import aws_only

    return aws_only(args.port)
