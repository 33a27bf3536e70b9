"""`/task-instances`: the task-instance lifecycle (run, state, heartbeat, ...) and lookups."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status
from fastapi.responses import JSONResponse

from slipstream.auth.tokens import TaskClaims
from slipstream.execution_api.datamodels.common import MessageResponse, UtcDateTime
from slipstream.execution_api.datamodels.task_instances import (
    InactiveAssetsResponse,
    PreviousTIResponse,
    PrevSuccessfulDagRunResponse,
    RenderedFields,
    TaskBreadcrumbsResponse,
    TaskStatesResponse,
    TIEnterRunningPayload,
    TIHeartbeatInfo,
    TIRunContext,
    TISkippedDownstreamTasksStatePayload,
    TIStateUpdate,
)
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import (
    execution_token,
    execution_token_for_ti,
    hand_out_token,
    run_token_for_ti,
)
from slipstream.services import lifecycle, queries
from slipstream.store.codec import fmt_time, utcnow
from slipstream.store.errors import TaskInstanceNotFound
from slipstream.store.rendered_fields import RenderedFieldsStore
from slipstream.store.task_instances import TaskInstances

router = APIRouter(prefix="/task-instances", tags=["Task Instances"], route_class=DeferredRoute)

TIPath = Annotated[str, Path(description="The task instance id (the `sub` of the caller's token).")]
ExecutionClaims = Annotated[TaskClaims, Depends(execution_token_for_ti)]

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "Task Instance not found"}}
_DAG_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "The DAG does not exist"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "The TI is not in a state that allows this"}
}


@router.patch("/{task_instance_id}/run", response_model=TIRunContext, responses={**_NOT_FOUND, **_CONFLICT})
async def ti_run(
    task_instance_id: TIPath,
    payload: TIEnterRunningPayload,
    response: Response,
    claims: Annotated[TaskClaims, Depends(run_token_for_ti)],
) -> Response:
    """Mark a queued (or restarting) TI running and return its run context."""
    started = TaskInstances().start(
        claims.key,
        claims.ti_id,
        hostname=payload.hostname,
        unixname=payload.unixname,
        pid=payload.pid,
        start_date=payload.start_date,
    )
    ti = started.ti
    context: dict[str, Any] = {
        "dag_run": json.loads(ti["dag_run"]),
        "task_reschedule_count": int(ti.get("task_reschedule_count", 0)),
        "max_tries": int(ti.get("max_tries", 0)),
        "variables": [],
        "connections": [],
        "xcom_keys_to_clear": started.xcom_keys_to_clear,
        "should_retry": started.should_retry,
    }
    if ti.get("next_method"):
        context["next_method"] = ti["next_method"]
        context["next_kwargs"] = json.loads(ti["next_kwargs"]) if ti.get("next_kwargs") else None
        context["start_date"] = ti["start_date"]
    answer = JSONResponse(context)
    hand_out_token(answer, claims)
    return answer


@router.patch(
    "/{task_instance_id}/state",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, **_CONFLICT, status.HTTP_200_OK: {"description": "Already in that state"}},
)
async def ti_update_state(
    task_instance_id: TIPath, payload: TIStateUpdate, claims: ExecutionClaims
) -> Response:
    """Report a transition of a running TI (terminal, retry, deferral, reschedule, ...)."""
    changed = lifecycle.finish(TaskInstances(), claims.key, claims.ti_id, payload)
    return Response(status_code=status.HTTP_204_NO_CONTENT if changed else status.HTTP_200_OK)


@router.put(
    "/{task_instance_id}/heartbeat",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        **_NOT_FOUND,
        status.HTTP_409_CONFLICT: {"description": "Running elsewhere, or no longer running"},
        status.HTTP_410_GONE: {"description": "The TI was retried or cleared and has a new id"},
    },
)
async def ti_heartbeat(
    task_instance_id: TIPath, payload: TIHeartbeatInfo, claims: ExecutionClaims
) -> Response:
    """Keep a running TI alive. One conditional write; refreshes the token when it nears expiry."""
    TaskInstances().heartbeat(claims.key, claims.ti_id, hostname=payload.hostname, pid=payload.pid)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    hand_out_token(response, claims)
    return response


@router.put(
    "/{task_instance_id}/rtif",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageResponse,
    responses={**_NOT_FOUND, status.HTTP_410_GONE: {"description": "The TI moved to history"}},
)
async def ti_put_rtif(
    task_instance_id: TIPath, fields: Annotated[RenderedFields, Body()], claims: ExecutionClaims
) -> MessageResponse:
    """Store the TI's rendered template fields (a later PUT overwrites)."""
    RenderedFieldsStore().put(TaskInstances(), claims.key, claims.ti_id, fields)
    return MessageResponse(message="Rendered task instance fields successfully set")


@router.patch(
    "/{task_instance_id}/skip-downstream", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND
)
async def ti_skip_downstream(
    task_instance_id: TIPath, payload: TISkippedDownstreamTasksStatePayload, claims: ExecutionClaims
) -> Response:
    """Skip the listed TIs of this run unless they are running or finished."""
    tis = TaskInstances()
    tis.get_by_id(claims.key, claims.ti_id)
    now = fmt_time(utcnow())
    for entry in payload.tasks:
        task_id, map_index = (entry, -1) if isinstance(entry, str) else entry
        tis.skip(claims.key.dag_id, claims.key.run_id, task_id, map_index, now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch(
    "/{task_instance_id}/rendered-map-index",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**_NOT_FOUND, 422: {"description": "Empty value"}},
)
async def ti_rendered_map_index(
    task_instance_id: TIPath, rendered_map_index: Annotated[str, Body()], claims: ExecutionClaims
) -> Response:
    if not rendered_map_index:
        return JSONResponse(status_code=422, content={"detail": "rendered_map_index cannot be empty"})
    try:
        TaskInstances().set_rendered_map_index(claims.key, claims.ti_id, rendered_map_index)
    except TaskInstanceNotFound:
        return JSONResponse(status_code=404, content={"detail": "Task Instance not found"})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{task_instance_id}/previous-successful-dagrun", response_model=PrevSuccessfulDagRunResponse)
async def ti_previous_successful_dagrun(task_instance_id: TIPath, claims: ExecutionClaims) -> dict[str, Any]:
    """The newest successful run of this DAG before this TI's logical date (all nulls if none)."""
    return queries.previous_successful_dag_run(claims.key)


@router.get(
    "/{task_instance_id}/validate-inlets-and-outlets",
    response_model=InactiveAssetsResponse,
    responses=_NOT_FOUND,
)
async def ti_validate_inlets_and_outlets(task_instance_id: TIPath, claims: ExecutionClaims) -> dict[str, Any]:
    """Assets are registered when first seen, so none is ever inactive."""
    TaskInstances().get_by_id(claims.key, claims.ti_id)
    return {"inactive_assets": []}


@router.get("/count", response_model=int, responses=_DAG_NOT_FOUND)
async def ti_count(
    _: Annotated[TaskClaims, Depends(execution_token)],
    dag_id: str,
    map_index: int | None = None,
    task_ids: Annotated[list[str] | None, Query()] = None,
    task_group_id: str | None = None,
    logical_dates: Annotated[list[UtcDateTime] | None, Query()] = None,
    run_ids: Annotated[list[str] | None, Query()] = None,
    states: Annotated[list[str] | None, Query()] = None,
) -> int:
    tis = queries.select_task_instances(dag_id, map_index, task_ids, task_group_id, logical_dates, run_ids)
    if states:
        wanted = {None if s == "null" else s for s in states}
        tis = [ti for ti in tis if ti.get("state") in wanted]
    return len(tis)


@router.get("/states", response_model=TaskStatesResponse, responses=_DAG_NOT_FOUND)
async def ti_states(
    _: Annotated[TaskClaims, Depends(execution_token)],
    dag_id: str,
    map_index: int | None = None,
    task_ids: Annotated[list[str] | None, Query()] = None,
    task_group_id: str | None = None,
    logical_dates: Annotated[list[UtcDateTime] | None, Query()] = None,
    run_ids: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    tis = queries.select_task_instances(dag_id, map_index, task_ids, task_group_id, logical_dates, run_ids)
    states: dict[str, dict[str, str | None]] = {}
    for ti in tis:
        mi = int(ti.get("map_index", -1))
        name = ti["task_id"] if mi < 0 else f"{ti['task_id']}_{mi}"
        states.setdefault(ti["run_id"], {})[name] = ti.get("state")
    return {"task_states": states}


@router.get("/breadcrumbs", response_model=TaskBreadcrumbsResponse)
async def ti_breadcrumbs(
    _: Annotated[TaskClaims, Depends(execution_token)], dag_id: str, run_id: str
) -> dict[str, Any]:
    return {"breadcrumbs": queries.breadcrumbs(dag_id, run_id)}


@router.get("/previous/{dag_id}/{task_id}", response_model=PreviousTIResponse | None)
async def ti_previous(
    _: Annotated[TaskClaims, Depends(execution_token)],
    dag_id: str,
    task_id: str,
    logical_date: UtcDateTime | None = None,
    map_index: int = -1,
    state: str | None = None,
) -> dict[str, Any] | None:
    return queries.previous_task_instance(dag_id, task_id, logical_date, map_index, state)
