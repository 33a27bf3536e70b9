"""Connections: AWS Secrets Manager first (Airflow's `airflow/connections/<id>` naming), then the
`CONNECTION` partition. Passwords are stored as given and never logged."""

from __future__ import annotations

import json
from typing import Any

from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.errors import AlreadyExists, NotFound
from slipstream.store.table import ConditionFailed, Table

FIELDS = ("conn_type", "host", "schema", "login", "password", "port", "extra")


class ConnectionNotFound(NotFound):
    def __init__(self, conn_id: str) -> None:
        super().__init__(f"Connection with ID {conn_id} not found")


class Connections:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def get(self, conn_id: str) -> dict[str, Any]:
        """The connection's fields (`extra` as a JSON string), from Secrets Manager or DynamoDB."""
        from_secret = self._from_secrets_manager(conn_id)
        if from_secret is not None:
            return from_secret
        item = self.table.get(keys.CONNECTION_PK, conn_id, consistent=False)
        if item is None:
            raise ConnectionNotFound(conn_id)
        return {"conn_id": conn_id, **{name: item.get(name) for name in FIELDS}}

    def _from_secrets_manager(self, conn_id: str) -> dict[str, Any] | None:
        prefix = get_settings().connections_secret_prefix
        if not prefix:
            return None
        client = aws.secretsmanager()
        try:
            secret = client.get_secret_value(SecretId=f"{prefix}/{conn_id}")["SecretString"]
        except client.exceptions.ResourceNotFoundException:
            return None
        from slipstream.services.connections import parse_secret

        return {"conn_id": conn_id, **parse_secret(secret)}

    def put(self, conn_id: str, fields: dict[str, Any], *, create: bool = False) -> None:
        """Upsert; with `create` the write refuses (AlreadyExists) to replace an existing one."""
        extra = fields.get("extra")
        if extra is not None and not isinstance(extra, str):
            extra = json.dumps(extra)
        try:
            self._write(conn_id, fields, extra, "attribute_not_exists(PK)" if create else None)
        except ConditionFailed:
            raise AlreadyExists(f"The connection with connection_id: `{conn_id}` already exists") from None

    def _write(self, conn_id: str, fields: dict[str, Any], extra: Any, condition: str | None) -> None:
        self.table.put(
            {
                "PK": keys.CONNECTION_PK,
                "SK": conn_id,
                "conn_id": conn_id,
                **{name: fields.get(name) for name in FIELDS if name != "extra"},
                "extra": extra,
                "updated_at": fmt_time(utcnow()),
            },
            condition=condition,
        )

    def delete(self, conn_id: str) -> bool:
        return self.table.delete(keys.CONNECTION_PK, conn_id, returns="ALL_OLD") is not None

    def list(self) -> list[Item]:
        return self.table.query(keys.CONNECTION_PK, consistent=False)
