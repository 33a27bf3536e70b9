"""Registered DAG documents (docs/dag-document.schema.json), one item per DAG, listed via GSI1."""

from __future__ import annotations

import json
from typing import Any

from slipstream.store import keys
from slipstream.store.assets import Assets
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.errors import NotFound
from slipstream.store.table import ConditionFailed, Table
from slipstream.store.table import values as _values


def scheduled_assets(document: dict[str, Any]) -> list[str]:
    """The assets an asset-triggered DAG is scheduled on (empty for other schedules)."""
    schedule = document.get("schedule")
    if isinstance(schedule, dict) and isinstance(schedule.get("assets"), list):
        return [str(name) for name in schedule["assets"]]
    return []


DEFAULT_MAX_ACTIVE_RUNS = 16
"""Airflow's `max_active_runs_per_dag`."""


def max_active_runs(document: dict[str, Any]) -> int:
    return int(document.get("max_active_runs") or DEFAULT_MAX_ACTIVE_RUNS)


def run_limit_of(dag: Item) -> int:
    """A DAG item's max_active_runs. An item registered before the item kept it as an attribute
    has it in its document only (the slot condition accepts such an item as it is)."""
    if "max_active_runs" in dag:
        return int(dag["max_active_runs"])
    return max_active_runs(json.loads(dag["document"]))


class DagNotFound(NotFound):
    def __init__(self, message: str) -> None:
        super().__init__(message)


class Dags:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def put(self, document: dict[str, Any], *, version_id: str, is_paused: bool) -> Item:
        """Register (or replace) a DAG; pausing state survives re-registration. Its max_active_runs
        is also an attribute of the DAG item, which every run's slot is counted against, so a new
        limit holds at once for runs already waiting, as Airflow reads it from the DAG model. The
        assets the DAG is scheduled on list it as a consumer (`ASSET#<name>`, `CONSUMER#<dag_id>`),
        and the assets its tasks update exist from now on, as Airflow registers them when it parses
        the file (`GET /assets/by-name` finds an asset before its first event)."""
        dag_id = document["dag_id"]
        now = fmt_time(utcnow())
        item = self.table.update(
            keys.dag_pk(dag_id),
            keys.DAG_SK,
            "SET document = :doc, dag_version_id = :version, updated_at = :now, GSI1PK = :gpk,"
            " GSI1SK = :id, dag_id = :id, is_paused = if_not_exists(is_paused, :paused),"
            " created_at = if_not_exists(created_at, :now), max_active_runs = :limit",
            values=_values(
                doc=json.dumps(document, separators=(",", ":")),
                limit=max_active_runs(document),
                version=version_id,
                now=now,
                gpk=keys.DAGS_INDEX_PK,
                id=dag_id,
                paused=is_paused,
            ),
            returns="ALL_NEW",
        )
        assert item is not None
        self._sync_consumers(dag_id, document)
        self._register_outlets(document)
        return item

    def _register_outlets(self, document: dict[str, Any]) -> None:
        outlets = {o["name"]: o["uri"] for task in document["tasks"] for o in task.get("outlets", [])}
        assets = Assets(self.table)
        for name, uri in outlets.items():
            self.table.transact(assets.ensure_actions({name: uri}))

    def _sync_consumers(self, dag_id: str, document: dict[str, Any]) -> None:
        wanted = set(scheduled_assets(document))
        for name in wanted:
            self.table.put({"PK": keys.asset_pk(name), "SK": f"CONSUMER#{dag_id}", "dag_id": dag_id})
        for item in self.table.query(keys.dag_pk(dag_id), prefix="CONSUMES#"):
            if item["asset"] not in wanted:
                self.table.delete(keys.asset_pk(item["asset"]), f"CONSUMER#{dag_id}")
                self.table.delete(item["PK"], item["SK"])
        for name in wanted:
            self.table.put({"PK": keys.dag_pk(dag_id), "SK": f"CONSUMES#{name}", "asset": name})

    def get(self, dag_id: str, *, consistent: bool = False) -> Item:
        item = self.table.get(keys.dag_pk(dag_id), keys.DAG_SK, consistent=consistent)
        if item is None:
            raise DagNotFound(f"The Dag with dag_id: `{dag_id}` was not found")
        return item

    def run_limit(self, dag_id: str) -> int:
        """The DAG's max_active_runs as its slots are counted now: a strongly consistent read of
        that attribute alone (the item also holds the DAG document, which need not travel)."""
        item = self.table.get(keys.dag_pk(dag_id), keys.DAG_SK, attributes=("max_active_runs",))
        if item:
            return int(item["max_active_runs"])
        return run_limit_of(self.get(dag_id, consistent=True))  # absent, or registered before

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
