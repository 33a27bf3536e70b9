"""Key-value stores tasks keep across retries: per task (`STORE#` in the run partition, scoped by
task and map index) and per asset (`STORE#` in the asset's partition).

`expires_at` doubles as the table's TTL attribute (epoch seconds): DynamoDB deletes expired rows
in the background, and until then they are still returned, as Airflow does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.store import keys
from slipstream.store.codec import escape, fmt_time, utcnow
from slipstream.store.errors import NotFound
from slipstream.store.table import Table


class StateStore:
    def __init__(self, pk: str, prefix: str, table: Table | None = None) -> None:
        self.pk = pk
        self.prefix = prefix
        self.table = table or Table()

    @classmethod
    def for_task(cls, key: TIKey) -> StateStore:
        return cls(keys.run_pk(key.dag_id, key.run_id), keys.task_store_prefix(key.task_id, key.map_index))

    @classmethod
    def for_asset(cls, asset_name: str) -> StateStore:
        return cls(keys.asset_pk(asset_name), "STORE#")

    def get(self, key: str) -> Any:
        item = self.table.get(self.pk, self.prefix + escape(key))
        if item is None:
            raise NotFound(f"key '{key}' not found")
        return json.loads(item["value"])

    def put(
        self,
        key: str,
        value: Any,
        *,
        expires_at: datetime | None = None,
        writer: dict[str, Any] | None = None,
    ) -> None:
        self.table.put(
            {
                "PK": self.pk,
                "SK": self.prefix + escape(key),
                "key": key,
                "value": json.dumps(value),
                "updated_at": fmt_time(utcnow()),
                "expires_at": int(expires_at.timestamp()) if expires_at else None,
                **(writer or {}),
            }
        )

    def delete(self, key: str) -> None:
        self.table.delete(self.pk, self.prefix + escape(key))

    def clear(self) -> None:
        for item in self.table.query(self.pk, prefix=self.prefix, projection="SK"):
            self.table.delete(self.pk, item["SK"])
