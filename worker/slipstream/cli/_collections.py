"""`set | get | list | delete` over a keyed collection of the management API (variables, connections)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slipstream.cli._api import add_target_arguments, command, connect, segment

Entry = dict[str, Any]


@dataclass(frozen=True)
class Collection:
    name: str
    """The command and the API path: `variables` is `/variables`."""
    key: str
    """What the API calls an entry's id, and the metavar of KEY arguments."""
    value: str
    """The metavar of `set`'s value argument."""
    body: Callable[[str, str], Entry]
    """`set`'s request body, from the key and the value as typed."""
    show: Callable[[Entry], str]
    row: Callable[[Entry], str]

    def register(self, commands: Any) -> None:
        parser = commands.add_parser(self.name, help=f"set, get, list and delete {self.name}")
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        key = self.key.upper()
        set_ = actions.add_parser("set", help="create, or replace if it exists")
        set_.add_argument("key", metavar=key)
        set_.add_argument("value", metavar=self.value)
        get = actions.add_parser("get")
        get.add_argument("key", metavar=key)
        listing = actions.add_parser("list")
        delete = actions.add_parser("delete")
        delete.add_argument("key", metavar=key)
        for action, handler in (
            (set_, self._set),
            (get, self._get),
            (listing, self._list),
            (delete, self._delete),
        ):
            add_target_arguments(action)
            action.set_defaults(handler=command(handler))

    def _set(self, args: argparse.Namespace) -> int:
        connect(args).upsert(f"/{self.name}", args.key, self.body(args.key, args.value))
        return 0

    def _get(self, args: argparse.Namespace) -> int:
        print(self.show(connect(args).get(f"/{self.name}/{segment(args.key)}")))
        return 0

    def _list(self, args: argparse.Namespace) -> int:
        for entry in connect(args).get(f"/{self.name}")[self.name]:
            print(self.row(entry))
        return 0

    def _delete(self, args: argparse.Namespace) -> int:
        connect(args).request("DELETE", f"/{self.name}/{segment(args.key)}")
        return 0
