"""`slipstream dags ...`: work with DAG files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    dags = commands.add_parser("dags", help="work with DAG files")
    actions = dags.add_subparsers(dest="action", required=True, metavar="ACTION")
    serialize = actions.add_parser(
        "serialize", help="print the DAG documents (JSON) of a DAG file or of every .py file in a folder"
    )
    serialize.add_argument("path", type=Path)
    serialize.add_argument(
        "--bundle-root", type=Path, help="folder `fileloc` is relative to (default: the folder of PATH)"
    )
    serialize.add_argument("--bundle-name", default="dags-folder")
    serialize.set_defaults(handler=_serialize)


def _serialize(args: argparse.Namespace) -> int:
    from slipstream.sdk.serialize import serialize_file

    path: Path = args.path
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
    root: Path = args.bundle_root or (path if path.is_dir() else path.parent)
    documents: list[dict[str, Any]] = []
    for file in files:
        documents.extend(serialize_file(file, root, args.bundle_name))
    json.dump(documents, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0
