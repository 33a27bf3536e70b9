"""Registered DAG documents (docs/dag-document.schema.json), one item per DAG, listed via GSI1."""

from __future__ import annotations

import json
from typing import Any

from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.errors import NotFound
from slipstream.store.table import ConditionFailed, Table
from slipstream.store.table import values as _values


class DagNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class Dags:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def put(self, document: dict[str, Any], *, version_id: str, is_paused: bool) -> Item:
        """Register (or replace) a DAG; pausing state survives re-registration."""
        dag_id = document["dag_id"]
        now = fmt_time(utcnow())
        item = self.table.update(
            keys.dag_pk(dag_id),
            keys.DAG_SK,
            "SET document = :doc, dag_version_id = :version, updated_at = :now, GSI1PK = :gpk,"
            " GSI1SK = :id, dag_id = :id, is_paused = if_not_exists(is_paused, :paused),"
            " created_at = if_not_exists(created_at, :now)",
            values=_values(
                doc=json.dumps(document, separators=(",", ":")),
                version=version_id,
                now=now,
                gpk=keys.DAGS_INDEX_PK,
                id=dag_id,
                paused=is_paused,
            ),
            returns="ALL_NEW",
        )
        assert item is not None
        return item

    def get(self, dag_id: str, *, consistent: bool = False) -> Item:
        item = self.table.get(keys.dag_pk(dag_id), keys.DAG_SK, consistent=consistent)
        if item is None:
            raise DagNotFound(f"The Dag with dag_id: `{dag_id}` was not found")
        return item

    def get_document(self, dag_id: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.get(dag_id)["document"])
        return document

    def list(self) -> list[Item]:
        return self.table.query(keys.DAGS_INDEX_PK, index=keys.GSI1)

    def set_paused(self, dag_id: str, paused: bool) -> Item:
        try:
            item = self.table.update(
                keys.dag_pk(dag_id),
                keys.DAG_SK,
                "SET is_paused = :p",
                condition="attribute_exists(PK)",
                values=_values(p=paused),
                returns="ALL_NEW",
            )
        except ConditionFailed:
            raise DagNotFound(f"The Dag with dag_id: `{dag_id}` was not found") from None
        assert item is not None
        return item

    def delete(self, dag_id: str) -> None:
        try:
            self.table.delete(keys.dag_pk(dag_id), keys.DAG_SK, condition="attribute_exists(PK)")
        except ConditionFailed:
            raise DagNotFound(f"The Dag with dag_id: `{dag_id}` was not found") from None
