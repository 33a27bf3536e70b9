"""Variables: one partition (`VARIABLE`), sorted by key, so prefix listings are one Query."""

from __future__ import annotations

from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.errors import AlreadyExists, NotFound
from slipstream.store.table import ConditionFailed, Table


class VariableNotFound(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"Variable with key '{key}' not found")


class Variables:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def get(self, key: str) -> Item:
        item = self.table.get(keys.VARIABLE_PK, key, consistent=False)
        if item is None:
            raise VariableNotFound(key)
        return item

    def put(self, key: str, value: str | None, description: str | None, *, create: bool = False) -> None:
        """Upsert; with `create` the write refuses (AlreadyExists) to replace an existing variable."""
        try:
            self._put(key, value, description, "attribute_not_exists(PK)" if create else None)
        except ConditionFailed:
            raise AlreadyExists(f"The Variable with key: `{key}` already exists") from None

    def _put(self, key: str, value: str | None, description: str | None, condition: str | None) -> None:
        self.table.put(
            {
                "PK": keys.VARIABLE_PK,
                "SK": key,
                "key": key,
                "value": value,
                "description": description,
                "updated_at": fmt_time(utcnow()),
            },
            condition=condition,
        )

    def delete(self, key: str) -> bool:
        return self.table.delete(keys.VARIABLE_PK, key, returns="ALL_OLD") is not None

    def keys(self, prefix: str) -> list[str]:
        # No prefix is the whole partition: DynamoDB refuses `begins_with` on an empty string.
        items = self.table.query(keys.VARIABLE_PK, prefix=prefix or None, projection="SK", consistent=False)
        return [str(i["SK"]) for i in items]

    def list(self) -> list[Item]:
        return self.table.query(keys.VARIABLE_PK, consistent=False)
