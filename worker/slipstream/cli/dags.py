"""`slipstream dags ...`: work with DAG files."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from slipstream.cli._api import add_target_arguments, command, connect, segment


def register(commands: Any) -> None:
    dags = commands.add_parser("dags", help="work with DAG files")
    actions = dags.add_subparsers(dest="action", required=True, metavar="ACTION")
    serialize = actions.add_parser(
        "serialize", help="print the DAG documents (JSON) of a DAG file or of every .py file in a folder"
    )
    serialize.add_argument("path", type=Path)
    serialize.set_defaults(handler=_serialize)
    upload = actions.add_parser("register", help="register the DAGs of DAG files or folders with the API")
    upload.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    upload.add_argument("--unpause", action="store_true", help="unpause them too (schedules start running)")
    add_target_arguments(upload)
    upload.set_defaults(handler=_register)
    for parser in (serialize, upload):
        parser.add_argument(
            "--bundle-root", type=Path, help="folder `fileloc` is relative to (default: the folder of PATH)"
        )
        parser.add_argument("--bundle-name", default="dags-folder")
        parser.add_argument(
            "--format",
            choices=["slipstream", "airflow"],
            default="slipstream",
            help="what the DAG files import: slipstream.sdk, or airflow.sdk (loaded under "
            "SLIPSTREAM_AIRFLOW_PYTHON, a venv holding apache-airflow-task-sdk)",
        )


def documents(
    path: Path,
    bundle_root: Path | None = None,
    bundle_name: str = "dags-folder",
    dag_format: str = "slipstream",
) -> list[dict[str, Any]]:
    """The DAG documents of a DAG file, or of every .py file under a folder."""
    root = bundle_root or (path if path.is_dir() else path.parent)
    if dag_format == "airflow":
        return airflow_documents(path, root, bundle_name)
    from slipstream.sdk.serialize import serialize_file

    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return [document for file in files for document in serialize_file(file, root, bundle_name)]


def airflow_documents(path: Path, bundle_root: Path, bundle_name: str) -> list[dict[str, Any]]:
    """The documents of DAG files written with `airflow.sdk`: Airflow's own parser reads them in
    Airflow's venv (`slipstream.interop.airflow_dags`), so Airflow never enters this one."""
    from slipstream.interop import script

    python = os.environ.get("SLIPSTREAM_AIRFLOW_PYTHON")
    if not python:
        raise SystemExit(
            "--format airflow needs SLIPSTREAM_AIRFLOW_PYTHON (a venv with apache-airflow-task-sdk)"
        )
    loader = [
        python,
        str(script("airflow_dags")),
        "--bundle-root",
        str(bundle_root),
        "--bundle-name",
        bundle_name,
    ]
    completed = subprocess.run([*loader, str(path)], capture_output=True, text=True, check=False)
    if completed.returncode:
        raise SystemExit(f"cannot load Airflow DAGs from {path}:\n{completed.stderr.strip()}")
    found: list[dict[str, Any]] = json.loads(completed.stdout)
    return found


def _serialize(args: argparse.Namespace) -> int:
    found = documents(args.path, args.bundle_root, args.bundle_name, args.format)
    json.dump(found, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


@command
def _register(args: argparse.Namespace) -> int:
    api = connect(args)
    for path in args.paths:
        for document in documents(path, args.bundle_root, args.bundle_name, args.format):
            api.request("POST", "/dags", json=document)
            if args.unpause:
                api.request("PATCH", f"/dags/{segment(document['dag_id'])}", json={"is_paused": False})
            print(f"registered {document['dag_id']} ({document['fileloc']})")
    return 0
