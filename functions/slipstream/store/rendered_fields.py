"""Rendered template fields (RTIF), one item per (task, map_index) of a run; a later PUT overwrites."""

from __future__ import annotations

import json
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.store import keys
from slipstream.store.codec import fmt_time, utcnow
from slipstream.store.errors import TaskInstanceMoved, TaskInstanceNotFound
from slipstream.store.table import Table, TransactionCancelled, put_action
from slipstream.store.task_instances import TaskInstances

FIELD_LIMIT = 4096
"""Longest rendered value kept per field, as Airflow's `max_templated_field_length`."""


def _truncate(value: Any) -> Any:
    text = value if isinstance(value, str) else json.dumps(value)
    if len(text) <= FIELD_LIMIT:
        return value
    return text[:FIELD_LIMIT] + "... (truncated)"


class RenderedFieldsStore:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def put(self, tis: TaskInstances, key: TIKey, ti_id: str, fields: dict[str, Any]) -> None:
        """Write the fields only while `ti_id` is the live TI (one transaction)."""
        item = {
            "PK": keys.run_pk(key.dag_id, key.run_id),
            "SK": keys.rtif_sk(key.task_id, key.map_index),
            "ti_id": ti_id,
            "fields": json.dumps({name: _truncate(value) for name, value in fields.items()}),
            "updated_at": fmt_time(utcnow()),
        }
        try:
            self.table.transact([tis.require(key, ti_id), put_action(item)])
        except TransactionCancelled as refused:
            if refused.items[0] is None:
                raise TaskInstanceNotFound from None
            raise TaskInstanceMoved from None

    def get(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, Any] | None:
        item = self.table.get(keys.run_pk(dag_id, run_id), keys.rtif_sk(task_id, map_index), consistent=False)
        return json.loads(item["fields"]) if item else None
