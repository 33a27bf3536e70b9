"""Asset-triggered DAGs: an asset event recorded by a successful task starts the DAGs scheduled
on that asset (all of its assets, for a DAG scheduled on several).

State lives on the consuming DAG's item: `pending:<asset>` holds the events not yet consumed and
`watermark:<asset>` the newest consumed event key. Adding an event is conditional on the
watermark, so a duplicated stream record never counts an event twice; the run is created in the
same transaction that clears the pending events it consumes, so two racing evaluations cannot
both start it.
"""

from __future__ import annotations

import json
from typing import Any

from slipstream.core.logging import logger
from slipstream.services import runs
from slipstream.store import keys
from slipstream.store.codec import Item, parse_time, utcnow
from slipstream.store.dags import scheduled_assets
from slipstream.store.errors import AlreadyExists, NotFound
from slipstream.store.table import ConditionFailed, Table, update_action
from slipstream.store.table import values as _values

CONSUMER_PREFIX = "CONSUMER#"


def on_asset_event(asset_pk: str, event_sk: str) -> None:
    table = Table()
    event = table.get(asset_pk, event_sk)
    if event is None:
        return
    for consumer in table.query(asset_pk, prefix=CONSUMER_PREFIX):
        _offer(table, str(consumer["dag_id"]), event)


def _offer(table: Table, dag_id: str, event: Item) -> None:
    asset = str(event["asset_name"])
    names = {"#p": f"pending:{asset}", "#w": f"watermark:{asset}"}
    try:
        dag = table.update(
            keys.dag_pk(dag_id),
            keys.DAG_SK,
            "ADD #p :event",
            condition="attribute_exists(PK) AND (attribute_not_exists(#w) OR #w < :sk)",
            names=names,
            values=_values(event={event["SK"]}, sk=event["SK"]),
            returns="ALL_NEW",
        )
    except ConditionFailed:
        return
    assert dag is not None
    document = json.loads(dag["document"])
    wanted = scheduled_assets(document)
    pending = {name: sorted(dag.get(f"pending:{name}") or []) for name in wanted}
    if not wanted or not all(pending.values()) or dag.get("is_paused"):
        return
    _trigger(table, dag_id, pending)


def _trigger(table: Table, dag_id: str, pending: dict[str, list[str]]) -> None:
    consumed = []
    for name, sks in pending.items():
        for item in table.batch_get([(keys.asset_pk(name), sk) for sk in sks]):
            consumed.append(_reference(item))
    names: dict[str, str] = {}
    sets, removes = [], []
    vals: dict[str, Any] = {}
    for i, (name, sks) in enumerate(pending.items()):
        names[f"#p{i}"] = f"pending:{name}"
        names[f"#w{i}"] = f"watermark:{name}"
        vals[f"seen{i}"] = set(sks)
        vals[f"last{i}"] = sks[-1]
        removes.append(f"#p{i}")
        sets.append(f"#w{i} = :last{i}")
    condition = " AND ".join(f"#p{i} = :seen{i}" for i in range(len(pending)))
    consume = update_action(
        keys.dag_pk(dag_id),
        keys.DAG_SK,
        "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes),
        condition,
        names=names,
        values=_values(**vals),
    )
    now = utcnow()
    try:
        run = runs.trigger(
            dag_id,
            run_id=f"asset_triggered__{now.isoformat()}",
            run_type="asset_triggered",
            logical_date=None,
            run_after=now,
            consumed_asset_events=consumed,
            extra_actions=[consume],
        )
    except (AlreadyExists, NotFound):
        return
    logger.info("asset-triggered run created", extra={"dag_id": dag_id, "run_id": run["run_id"]})


def _reference(event: Item) -> dict[str, Any]:
    """An event as `AssetEventDagRunReference` (what `/run` shows in consumed_asset_events)."""
    timestamp = parse_time(event["timestamp"])
    return {
        "asset": {"name": event["asset_name"], "uri": event["asset_uri"], "extra": {}},
        "extra": json.loads(event.get("extra") or "{}"),
        "source_task_id": event.get("source_task_id"),
        "source_dag_id": event.get("source_dag_id"),
        "source_run_id": event.get("source_run_id"),
        "source_map_index": event.get("source_map_index"),
        "source_aliases": [{"name": a} for a in event.get("source_aliases", [])],
        "timestamp": timestamp.isoformat().replace("+00:00", "Z") if timestamp else None,
        "partition_key": event.get("partition_key"),
    }
