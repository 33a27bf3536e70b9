"""Assets, aliases and asset events.

An asset lives at `ASSET#<name>`; `ASSETURI#<uri>` points back to its name, so a lookup by either
is one GetItem. Events sit in the asset's partition under `EVENT#<timestamp>#<id>` (time-ordered
range queries); an event emitted through an alias is also filed under `ALIAS#<alias>`. Event ids
are integers (Airflow's wire type) drawn from an atomic counter, a block per request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slipstream.store import keys
from slipstream.store.codec import Item
from slipstream.store.errors import NotFound
from slipstream.store.table import Table, put_action
from slipstream.store.table import values as _values

COUNTER_PK = "COUNTER"
EVENT_PREFIX = "EVENT#"


class AssetNotFound(NotFound):
    pass


def wire_asset(item: Item) -> dict[str, Any]:
    return {
        "name": item["name"],
        "uri": item["uri"],
        "group": item.get("group", "asset"),
        "extra": json.loads(item.get("extra", "{}")),
    }


class Assets:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def by_name(self, name: str) -> Item:
        item = self.table.get(keys.asset_pk(name), "ASSET", consistent=False)
        if item is None or not item.get("active", True):
            raise AssetNotFound(f"Asset with name {name} not found")
        return item

    def by_uri(self, uri: str) -> Item:
        pointer = self.table.get(keys.asset_uri_pk(uri), "ASSET", consistent=False)
        if pointer is None:
            raise AssetNotFound(f"Asset with URI {uri} not found")
        try:
            return self.by_name(pointer["name"])
        except AssetNotFound:
            raise AssetNotFound(f"Asset with URI {uri} not found") from None

    def by_alias(self, alias: str) -> list[Item]:
        members = self.table.query(keys.alias_pk(alias), prefix="ASSET#", consistent=False)
        if not members:
            return []
        return self.table.batch_get([(keys.asset_pk(m["name"]), "ASSET") for m in members], consistent=False)

    def ensure_actions(self, assets: Mapping[str, str]) -> list[dict[str, Any]]:
        """Puts that register assets, name to uri (idempotent: the name and uri items are
        overwritten alike). Two names may share a uri, as Airflow's assets are unique by the pair;
        the uri's item names the first, as a lookup by uri finds one asset, and is written once
        (a transaction writes an item once)."""
        by_uri: dict[str, str] = {}
        actions = []
        for name, uri in assets.items():
            item = {"PK": keys.asset_pk(name), "SK": "ASSET", "name": name, "uri": uri}
            actions.append(put_action({**item, "group": "asset", "extra": "{}", "active": True}))
            by_uri.setdefault(uri, name)
        for uri, name in by_uri.items():
            actions.append(put_action({"PK": keys.asset_uri_pk(uri), "SK": "ASSET", "name": name}))
        return actions

    def allocate_ids(self, count: int) -> range:
        item = self.table.update(
            COUNTER_PK,
            "asset_event",
            "ADD next_id :n",
            values=_values(n=count),
            returns="UPDATED_NEW",
        )
        assert item is not None
        last = int(item["next_id"])
        return range(last - count + 1, last + 1)

    def events(
        self,
        partition: str,
        *,
        after: str | None,
        before: str | None,
        ascending: bool,
        limit: int | None,
    ) -> list[Item]:
        lo = EVENT_PREFIX + (after or "")
        hi = EVENT_PREFIX + (before + "\uffff" if before else "\uffff")
        return self.table.query(partition, between=(lo, hi), forward=ascending, limit=limit, consistent=False)
