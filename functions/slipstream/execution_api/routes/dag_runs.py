"""`/dag-runs`: trigger, clear and look up dag runs from inside a task."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status

from slipstream.auth.tokens import TaskClaims
from slipstream.execution_api.datamodels.common import RunId, UtcDateTime
from slipstream.execution_api.datamodels.dag_runs import DagRun, DagRunStateResponse, TriggerDAGRunPayload
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import execution_token
from slipstream.store.codec import fmt_time
from slipstream.store.dag_runs import DagRuns, wire_dag_run
from slipstream.store.dags import DagNotFound

router = APIRouter(prefix="/dag-runs", tags=["Dag Runs"], route_class=DeferredRoute)
Claims = Annotated[TaskClaims, Depends(execution_token)]


@router.get("/count", response_model=int)
async def get_dr_count(
    _: Claims,
    dag_id: str,
    logical_dates: Annotated[list[UtcDateTime] | None, Query()] = None,
    run_ids: Annotated[list[str] | None, Query()] = None,
    states: Annotated[list[str] | None, Query()] = None,
) -> int:
    found = DagRuns().list_for_dag(dag_id)
    if logical_dates:
        dates = {fmt_time(d) for d in logical_dates}
        found = [r for r in found if r.get("logical_date") in dates]
    if run_ids:
        found = [r for r in found if r["run_id"] in set(run_ids)]
    if states:
        found = [r for r in found if r.get("state") in set(states)]
    return len(found)


@router.get("/previous", response_model=DagRun | None)
async def get_previous_dagrun(
    _: Claims, dag_id: str, logical_date: UtcDateTime, state: str | None = None
) -> dict[str, Any] | None:
    """The newest run with a logical date before `logical_date` (and in `state`, if given)."""
    before = fmt_time(logical_date)
    for run in DagRuns().list_for_dag(dag_id, before=before):
        if (
            run.get("logical_date")
            and run["logical_date"] < before
            and (state is None or run["state"] == state)
        ):
            return wire_dag_run(run)
    return None


@router.post(
    "/{dag_id}/{run_id}", status_code=status.HTTP_204_NO_CONTENT, responses={400: {}, 404: {}, 409: {}}
)
async def trigger_dag_run(
    dag_id: str, run_id: Annotated[RunId, Path()], payload: TriggerDAGRunPayload, claims: Claims
) -> Response:
    """Create an `operator_triggered` run, inheriting the calling TI's triggering user."""
    from slipstream.services import runs  # and the scheduler: imported by the requests that use them

    caller = DagRuns().find(claims.key.dag_id, claims.key.run_id)
    try:
        runs.trigger(
            dag_id,
            run_id=run_id,
            run_type="operator_triggered",
            logical_date=payload.logical_date,
            run_after=payload.run_after,
            conf=payload.conf,
            triggering_user_name=caller.get("triggering_user_name") if caller else None,
            note=payload.note,
            partition_key=payload.partition_key,
        )
    except DagNotFound:  # trigger reads the DAG (strongly consistent) before it writes anything
        raise runs.dag_not_found(dag_id) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{dag_id}/{run_id}/clear", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
async def clear_dag_run(dag_id: str, run_id: str, _: Claims) -> Response:
    from slipstream.services import runs

    runs.require_dag(dag_id)
    runs.clear(dag_id, run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{dag_id}/{run_id}", response_model=DagRun, responses={404: {}})
async def get_dag_run(dag_id: str, run_id: str, _: Claims) -> dict[str, Any]:
    return wire_dag_run(DagRuns().get(dag_id, run_id))


@router.get("/{dag_id}/{run_id}/state", response_model=DagRunStateResponse, responses={404: {}})
async def get_dag_run_state(dag_id: str, run_id: str, _: Claims) -> dict[str, Any]:
    return {"state": DagRuns().get(dag_id, run_id)["state"]}
