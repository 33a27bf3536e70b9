"""`slipstream demo`: the examples, end to end, on a local stack (see `slipstream.local.demo`)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    demo = commands.add_parser("demo", help="run the examples on a local stack, then stop it")
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    from slipstream.local.demo import demo

    return demo()
