"""`slipstream variables set KEY VALUE | get KEY | list | delete KEY`."""

from __future__ import annotations

from typing import Any

from slipstream.cli._collections import Collection

VARIABLES = Collection(
    name="variables",
    key="key",
    value="VALUE",
    body=lambda key, value: {"key": key, "value": value},
    show=lambda variable: str(variable["value"]),
    row=lambda variable: f"{variable['key']}\t{variable['value']}",
)


def register(commands: Any) -> None:
    VARIABLES.register(commands)
