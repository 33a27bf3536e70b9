"""Asset events recorded when a task instance succeeds with outlets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.execution_api.datamodels.common import AssetProfile
from slipstream.store import keys
from slipstream.store.assets import EVENT_PREFIX, Assets
from slipstream.store.codec import fmt_time
from slipstream.store.table import put_action


def outlet_event_actions(
    source: TIKey, task_outlets: list[AssetProfile], outlet_events: list[dict[str, Any]], now: datetime
) -> list[dict[str, Any]]:
    """The writes recording a successful TI's asset events: one event per outlet asset (extras
    from the matching outlet event) plus one per alias event, their alias copies and the asset
    registrations. Ids come from one counter update, made here; the writes are the caller's to
    make, in the transaction that moves the TI to success.
    """
    events: list[dict[str, Any]] = []
    for event in outlet_events:
        dest = event.get("dest_asset_key")
        if not isinstance(dest, dict) or not dest.get("name"):
            continue
        events.append(
            {
                "name": str(dest["name"]),
                "uri": str(dest.get("uri") or dest["name"]),
                "extra": event.get("extra") or {},
                "alias": event.get("source_alias_name"),
                "partition_key": event.get("partition_key"),
            }
        )
    emitted = {e["name"] for e in events}
    for outlet in task_outlets:
        if outlet.type == "Asset" and outlet.name and outlet.name not in emitted:
            events.append(
                {
                    "name": outlet.name,
                    "uri": outlet.uri or outlet.name,
                    "extra": {},
                    "alias": None,
                    "partition_key": None,
                }
            )
    if not events:
        return []
    store = Assets()
    ids = store.allocate_ids(len(events))
    timestamp = fmt_time(now)
    registered = {event["name"]: event["uri"] for event in events}
    actions = store.ensure_actions(registered)
    aliased: set[tuple[str, str]] = set()
    for event_id, event in zip(ids, events, strict=True):
        body = {
            "id": event_id,
            "timestamp": timestamp,
            "asset_name": event["name"],
            "asset_uri": event["uri"],
            "extra": json.dumps(event["extra"]),
            "source_dag_id": source.dag_id,
            "source_run_id": source.run_id,
            "source_task_id": source.task_id,
            "source_map_index": source.map_index,
            "partition_key": event["partition_key"],
            "source_aliases": [event["alias"]] if event["alias"] else [],
        }
        sk = f"{EVENT_PREFIX}{timestamp}#{event_id:012d}"
        actions.append(
            put_action({"PK": keys.asset_pk(event["name"]), "SK": sk, "kind": "asset_event", **body})
        )
        if event["alias"]:
            actions.append(put_action({"PK": keys.alias_pk(event["alias"]), "SK": sk, **body}))
            aliased.add((event["alias"], event["name"]))
    for alias, name in aliased:
        actions.append(put_action({"PK": keys.alias_pk(alias), "SK": keys.asset_pk(name), "name": name}))
    return actions
