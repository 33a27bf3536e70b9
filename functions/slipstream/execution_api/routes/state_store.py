"""`/store`: the task state store (`/store/ti/{id}/...`) and the asset state store (`/store/asset/...`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import AfterValidator, JsonValue

from slipstream.auth.tokens import TaskClaims
from slipstream.execution_api.datamodels.common import ResponseModel, StrictModel, UtcDateTime
from slipstream.execution_api.errors import detail
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import execution_token, execution_token_for_ti
from slipstream.store.assets import AssetNotFound, Assets
from slipstream.store.errors import NotFound
from slipstream.store.state_stores import StateStore
from slipstream.store.task_instances import TaskInstances

router = APIRouter(prefix="/store", tags=["State Store"], route_class=DeferredRoute)
TIClaims = Annotated[TaskClaims, Depends(execution_token_for_ti)]
Claims = Annotated[TaskClaims, Depends(execution_token)]
NO_CONTENT = status.HTTP_204_NO_CONTENT


class StoreValue(ResponseModel):
    value: JsonValue


def _not_null(value: JsonValue) -> JsonValue:
    if value is None:
        raise ValueError("value must not be null")
    return value


NonNullJson = Annotated[JsonValue, AfterValidator(_not_null)]


class TaskStorePut(StrictModel):
    value: NonNullJson
    expires_at: UtcDateTime | None = None


class AssetStorePut(StrictModel):
    value: NonNullJson


def _task_store(claims: TaskClaims) -> StateStore:
    try:
        TaskInstances().get_by_id(claims.key, claims.ti_id)
    except NotFound:
        raise NotFound(f"Task instance {claims.ti_id} not found") from None
    return StateStore.for_task(claims.key)


@router.get("/ti/{task_instance_id}/{key:path}", response_model=StoreValue, responses={404: {}})
async def get_task_state(
    task_instance_id: str, key: Annotated[str, Path(min_length=1)], claims: TIClaims
) -> Any:
    try:
        return {"value": _task_store(claims).get(key)}
    except NotFound as missing:
        if missing.message.startswith("Task instance"):
            raise
        return detail(404, "not_found", f"Task state store key '{key}' not found")


@router.put("/ti/{task_instance_id}/{key:path}", status_code=NO_CONTENT, responses={404: {}})
async def put_task_state(
    task_instance_id: str, key: Annotated[str, Path(min_length=1)], body: TaskStorePut, claims: TIClaims
) -> Response:
    _task_store(claims).put(key, body.value, expires_at=body.expires_at)
    return Response(status_code=NO_CONTENT)


@router.delete("/ti/{task_instance_id}/{key:path}", status_code=NO_CONTENT)
async def delete_task_state(
    task_instance_id: str, key: Annotated[str, Path(min_length=1)], claims: TIClaims
) -> Response:
    _task_store(claims).delete(key)
    return Response(status_code=NO_CONTENT)


@router.delete("/ti/{task_instance_id}", status_code=NO_CONTENT)
async def clear_task_state(task_instance_id: str, claims: TIClaims) -> Response:
    _task_store(claims).clear()
    return Response(status_code=NO_CONTENT)


By = Literal["by-name", "by-uri"]


def _asset_store(by: By, name: str | None, uri: str | None) -> StateStore:
    assets = Assets()
    try:
        asset = assets.by_name(name or "") if by == "by-name" else assets.by_uri(uri or "")
    except AssetNotFound:
        where = f"name='{name}'" if by == "by-name" else f"uri='{uri}'"
        raise NotFound(f"Asset with {where} not found") from None
    return StateStore.for_asset(asset["name"])


@router.get("/asset/{by}/value", response_model=StoreValue, responses={404: {}})
async def get_asset_state(
    by: By,
    _: Claims,
    key: Annotated[str, Query(min_length=1)],
    name: Annotated[str | None, Query(min_length=1)] = None,
    uri: Annotated[str | None, Query(min_length=1)] = None,
) -> Any:
    store = _asset_store(by, name, uri)
    try:
        return {"value": store.get(key)}
    except NotFound:
        return detail(404, "not_found", f"Asset state store key '{key}' not found")


@router.put("/asset/{by}/value", status_code=NO_CONTENT, responses={404: {}})
async def put_asset_state(
    by: By,
    body: AssetStorePut,
    claims: Claims,
    key: Annotated[str, Query(min_length=1)],
    name: Annotated[str | None, Query(min_length=1)] = None,
    uri: Annotated[str | None, Query(min_length=1)] = None,
) -> Response:
    store = _asset_store(by, name, uri)
    if TaskInstances().get(claims.key) is None:
        raise NotFound(f"Task instance '{claims.ti_id}' not found")
    k = claims.key
    writer = {"written_by": [k.dag_id, k.run_id, k.task_id, k.map_index]}
    store.put(key, body.value, writer=writer)
    return Response(status_code=NO_CONTENT)


@router.delete("/asset/{by}/value", status_code=NO_CONTENT, responses={404: {}})
async def delete_asset_state(
    by: By,
    _: Claims,
    key: Annotated[str, Query(min_length=1)],
    name: Annotated[str | None, Query(min_length=1)] = None,
    uri: Annotated[str | None, Query(min_length=1)] = None,
) -> Response:
    _asset_store(by, name, uri).delete(key)
    return Response(status_code=NO_CONTENT)


@router.delete("/asset/{by}/clear", status_code=NO_CONTENT, responses={404: {}})
async def clear_asset_state(
    by: By,
    _: Claims,
    name: Annotated[str | None, Query(min_length=1)] = None,
    uri: Annotated[str | None, Query(min_length=1)] = None,
) -> Response:
    _asset_store(by, name, uri).clear()
    return Response(status_code=NO_CONTENT)
