"""`/xcoms/{dag_id}/{run_id}/{task_id}/{key}`: push, pull, count, index and slice XComs.

Values are JSON the Task SDK already serialised; they are stored and returned verbatim. Routes are
declared in Airflow's order (`item`, `slice`, HEAD, GET, POST, DELETE) because `key` may contain
slashes. In strict isolation, reads stay within the caller's DAG and writes within its own TI.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import JsonValue

from slipstream.auth.tokens import TaskClaims, TIKey
from slipstream.core.settings import get_settings
from slipstream.execution_api.datamodels.common import MessageResponse
from slipstream.execution_api.datamodels.xcoms import XComResponse
from slipstream.execution_api.errors import detail
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import execution_token, require_dag_access, require_own_ti
from slipstream.store import keys
from slipstream.store.codec import Item
from slipstream.store.dag_runs import DagRuns
from slipstream.store.xcoms import DagRunMissing, XComs

router = APIRouter(
    prefix="/xcoms", tags=["XComs"], dependencies=[Depends(execution_token)], route_class=DeferredRoute
)

KEY_PATH = "/{dag_id}/{run_id}/{task_id}/{key:path}"
Key = Annotated[str, Path(min_length=1)]
Claims = Annotated[TaskClaims, Depends(execution_token)]


def _json(raw: str) -> Response:
    return Response(content=raw, media_type="application/json")


def _not_found(dag_id: str, run_id: str, task_id: str, key: str, where: str) -> JSONResponse:
    return detail(
        404,
        "not_found",
        f"XCom with key='{key}' {where} not found for task '{task_id}' in DAG run '{run_id}' of '{dag_id}'",
    )


def _values_by_index(items: list[Item]) -> list[str]:
    """Stored values ordered by map index, skipping those that were never pushed (null)."""
    encoded = [XComs.encoded_value(item) for item in items]
    return [value for value in encoded if value != "null"]


@router.get(KEY_PATH + "/item/{offset}", responses={404: {}})
async def get_mapped_xcom_by_index(
    dag_id: str, run_id: str, task_id: str, key: Key, offset: int, claims: Claims
) -> Response:
    """The bare value at `offset` among the task's mapped XComs (negative counts from the end)."""
    require_dag_access(claims, dag_id)
    values = _values_by_index(XComs().all_indexes(dag_id, run_id, task_id, key))
    if not -len(values) <= offset < len(values):
        return _not_found(dag_id, run_id, task_id, key, f"offset={offset}")
    return _json(values[offset])


@router.get(KEY_PATH + "/slice", response_model=list[JsonValue])
async def get_mapped_xcom_by_slice(
    dag_id: str,
    run_id: str,
    task_id: str,
    key: Key,
    claims: Claims,
    start: int | None = None,
    stop: int | None = None,
    step: int | None = None,
    include_prior_dates: bool = False,
) -> Response:
    """`values[start:stop:step]` over the mapped values ordered by map index."""
    require_dag_access(claims, dag_id)
    if step == 0:
        return detail(400, "invalid_request", "slice step cannot be zero")
    store = XComs()
    items = store.all_indexes(dag_id, run_id, task_id, key)
    if not items and include_prior_dates:
        for earlier in _earlier_runs(dag_id, run_id):
            items = store.all_indexes(dag_id, earlier, task_id, key)
            if items:
                break
    selected = _values_by_index(items)[start:stop:step]
    return _json("[" + ",".join(selected) + "]")


@router.head(KEY_PATH, response_class=Response, responses={400: {}})
async def head_xcom(
    request: Request, dag_id: str, run_id: str, task_id: str, key: Key, claims: Claims
) -> Response:
    """The number of stored map indexes, in `Content-Range: map_indexes <n>`."""
    require_dag_access(claims, dag_id)
    if "map_index" in request.query_params:
        return detail(400, "invalid_request", "Cannot specify map_index in a HEAD request")
    count = XComs().count(dag_id, run_id, task_id, key)
    return Response(status_code=200, headers={"Content-Range": f"map_indexes {count}"})


@router.get(KEY_PATH, response_model=XComResponse, responses={404: {}})
async def get_xcom(
    dag_id: str,
    run_id: str,
    task_id: str,
    key: Key,
    claims: Claims,
    map_index: int = -1,
    include_prior_dates: bool = False,
    offset: int | None = None,
) -> Response:
    require_dag_access(claims, dag_id)
    store = XComs()
    if offset is not None:
        values = _values_by_index(store.all_indexes(dag_id, run_id, task_id, key))
        position = offset if offset >= 0 else len(values) + offset
        if not 0 <= position < len(values):
            return _not_found(dag_id, run_id, task_id, key, f"offset={offset}")
        value = values[position]
    else:
        item = store.get(dag_id, run_id, task_id, key, map_index)
        if item is None and include_prior_dates:
            for earlier in _earlier_runs(dag_id, run_id):
                item = store.get(dag_id, earlier, task_id, key, map_index)
                if item is not None:
                    break
        if item is None:
            return _not_found(dag_id, run_id, task_id, key, f"map_index={map_index}")
        value = XComs.encoded_value(item)
    return _json('{"key":' + json.dumps(key) + ',"value":' + value + "}")


@router.post(
    KEY_PATH,
    status_code=status.HTTP_201_CREATED,
    response_model=MessageResponse,
    responses={400: {}, 404: {"description": "The dag run does not exist"}},
)
async def set_xcom(
    dag_id: str,
    run_id: str,
    task_id: str,
    key: Key,
    claims: Claims,
    value: Annotated[JsonValue, Body()] = None,
    map_index: Annotated[int, Query(ge=-1, le=keys.MAX_MAP_INDEX)] = -1,
    dag_result: bool = False,
    mapped_length: Annotated[int | None, Query(ge=0)] = None,
) -> Any:
    """Upsert one XCom. An empty body means `null`."""
    require_own_ti(claims, TIKey(dag_id, run_id, task_id, map_index))
    if mapped_length is not None and mapped_length > get_settings().max_map_length:
        return detail(
            400,
            "unmappable_return_value_length",
            "pushed value is too large to map as a downstream's dependency",
        )
    try:
        XComs().set(
            dag_id,
            run_id,
            task_id,
            key,
            map_index,
            json.dumps(value, separators=(",", ":")),
        )
    except DagRunMissing as missing:
        return JSONResponse(status_code=404, content={"detail": missing.message})
    return MessageResponse(message="XCom successfully set")


@router.delete(KEY_PATH, response_model=MessageResponse)
async def delete_xcom(
    dag_id: str,
    run_id: str,
    task_id: str,
    key: Key,
    claims: Claims,
    map_index: Annotated[int, Query(ge=-1, le=keys.MAX_MAP_INDEX)] = -1,
) -> MessageResponse:
    require_own_ti(claims, TIKey(dag_id, run_id, task_id, map_index))
    XComs().delete(dag_id, run_id, task_id, key, map_index)
    return MessageResponse(message=f"XCom with key: {key} successfully deleted.")


def _earlier_runs(dag_id: str, run_id: str) -> list[str]:
    """Run ids of this DAG no later than `run_id`'s date, newest first (include_prior_dates)."""
    runs = DagRuns()
    current = runs.find(dag_id, run_id)
    if current is None:
        return []
    newest_first = runs.list_for_dag(dag_id, before=current["sort_date"] + "\uffff")
    return [r["run_id"] for r in newest_first if r["run_id"] != run_id]
