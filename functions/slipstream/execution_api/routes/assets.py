"""`/assets` and `/asset-events`: look up assets and the events recorded for them."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from slipstream.execution_api.datamodels.assets import AssetEventsResponse, AssetResponse
from slipstream.execution_api.datamodels.common import UtcDateTime
from slipstream.execution_api.errors import detail
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import execution_token
from slipstream.store import keys
from slipstream.store.assets import AssetNotFound, Assets, wire_asset
from slipstream.store.codec import Item, fmt_time

router = APIRouter(
    prefix="/assets", tags=["Assets"], dependencies=[Depends(execution_token)], route_class=DeferredRoute
)
events_router = APIRouter(
    prefix="/asset-events",
    tags=["Asset Events"],
    dependencies=[Depends(execution_token)],
    route_class=DeferredRoute,
)


@router.get("/by-name", response_model=AssetResponse, responses={404: {}})
async def get_asset_by_name(name: str) -> dict[str, Any]:
    return wire_asset(Assets().by_name(name))


@router.get("/by-uri", response_model=AssetResponse, responses={404: {}})
async def get_asset_by_uri(uri: str) -> dict[str, Any]:
    return wire_asset(Assets().by_uri(uri))


@router.get("/by-alias", response_model=list[AssetResponse])
async def get_assets_by_alias(alias_name: str) -> list[dict[str, Any]]:
    return [wire_asset(item) for item in Assets().by_alias(alias_name)]


def _wire_event(event: Item) -> dict[str, Any]:
    return {
        "id": int(event["id"]),
        "timestamp": event["timestamp"],
        "extra": json.loads(event.get("extra", "{}")),
        "asset": {"name": event["asset_name"], "uri": event["asset_uri"], "group": "asset", "extra": {}},
        "created_dagruns": json.loads(event.get("created_dagruns", "[]")),
        "source_task_id": event.get("source_task_id"),
        "source_dag_id": event.get("source_dag_id"),
        "source_run_id": event.get("source_run_id"),
        "source_map_index": event.get("source_map_index"),
        "partition_key": event.get("partition_key"),
    }


def _window(
    partition: str, after: UtcDateTime | None, before: UtcDateTime | None, ascending: bool, limit: int | None
) -> dict[str, Any]:
    events = Assets().events(
        partition,
        after=fmt_time(after) if after else None,
        before=fmt_time(before) if before else None,
        ascending=ascending,
        limit=limit,
    )
    return {"asset_events": [_wire_event(e) for e in events]}


@events_router.get("/by-asset", response_model=AssetEventsResponse, responses={400: {}})
async def get_asset_events_by_asset(
    name: Annotated[str | None, Query()],
    uri: Annotated[str | None, Query()],
    after: UtcDateTime | None = None,
    before: UtcDateTime | None = None,
    ascending: bool = True,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """Events of one asset, by name or uri (the Task SDK sends both keys, `""` for None)."""
    if not name and not uri:
        return detail(400, "Missing parameter", "name and uri cannot both be None")
    store = Assets()
    try:
        asset = store.by_name(name) if name else store.by_uri(uri or "")
    except AssetNotFound:
        return {"asset_events": []}
    if name and uri and asset["uri"] != uri:
        return {"asset_events": []}
    return _window(keys.asset_pk(asset["name"]), after, before, ascending, limit)


@events_router.get("/by-asset-alias", response_model=AssetEventsResponse)
async def get_asset_events_by_asset_alias(
    name: str,
    after: UtcDateTime | None = None,
    before: UtcDateTime | None = None,
    ascending: bool = True,
    limit: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    return _window(keys.alias_pk(name), after, before, ascending, limit)
