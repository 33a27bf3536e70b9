"""The `slipstream` command.

Every public module of this package is one command (or command group) and is found by itself: it
defines `register(subparsers)`, which adds its parser and sets `handler` to a function taking the
parsed arguments and returning an exit code. Adding a command means adding a module. Command
modules import heavy dependencies inside their handlers, so `slipstream --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slipstream", description="Slipstream: Airflow tasks, serverless.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name[0] != "_"):
        importlib.import_module(f"{__name__}.{module}").register(commands)
    args = parser.parse_args(argv)
    code: int = args.handler(args)
    return code
