"""`slipstream connections set ID URI_OR_JSON | get ID | list | delete ID`.

`set` takes a URI (`postgres://user:pass@host:5432/db`) or a JSON object of Airflow's connection
fields (`{"conn_type": "http", "host": "example.com", "extra": "{...}"}`).
"""

from __future__ import annotations

import json
from typing import Any

from slipstream.cli._api import CommandError
from slipstream.cli._collections import Collection, Entry


def _body(connection_id: str, value: str) -> Entry:
    if not value.lstrip().startswith("{"):
        return {"connection_id": connection_id, "uri": value}
    try:
        fields = json.loads(value)
    except ValueError as exc:
        raise CommandError(f"not a JSON object: {exc}") from None
    return {**fields, "connection_id": connection_id}


CONNECTIONS = Collection(
    name="connections",
    key="connection_id",
    value="URI_OR_JSON",
    body=_body,
    show=lambda connection: json.dumps(connection, indent=2),
    row=lambda connection: (
        f"{connection['connection_id']}\t{connection.get('conn_type')}\t{connection.get('host') or ''}"
    ),
)


def register(commands: Any) -> None:
    CONNECTIONS.register(commands)
