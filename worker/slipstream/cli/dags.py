"""`slipstream dags ...`: work with DAG files."""

from __future__ import annotations

import argparse
import json
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


def documents(
    path: Path, bundle_root: Path | None = None, bundle_name: str = "dags-folder"
) -> list[dict[str, Any]]:
    """The DAG documents of a DAG file, or of every .py file under a folder."""
    from slipstream.sdk.serialize import serialize_file

    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    root = bundle_root or (path if path.is_dir() else path.parent)
    return [document for file in files for document in serialize_file(file, root, bundle_name)]


def _serialize(args: argparse.Namespace) -> int:
    json.dump(documents(args.path, args.bundle_root, args.bundle_name), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


@command
def _register(args: argparse.Namespace) -> int:
    api = connect(args)
    for path in args.paths:
        for document in documents(path, args.bundle_root, args.bundle_name):
            api.request("POST", "/dags", json=document)
            if args.unpause:
                api.request("PATCH", f"/dags/{segment(document['dag_id'])}", json={"is_paused": False})
            print(f"registered {document['dag_id']} ({document['fileloc']})")
    return 0
