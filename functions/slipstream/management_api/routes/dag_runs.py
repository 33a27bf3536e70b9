"""`/dags/{dag_id}/dagRuns`: trigger, list, read, mark, clear and delete dag runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from slipstream.auth.tokens import AdminClaims
from slipstream.execution_api.datamodels.dag_runs import DagRunState
from slipstream.management_api import clearing, deletion
from slipstream.management_api.datamodels.common import DEFAULT_LIMIT, Limit, Offset, page
from slipstream.management_api.datamodels.dag_runs import (
    DAGRunClearBody,
    DAGRunCollectionResponse,
    DAGRunPatchBody,
    DAGRunResponse,
    TriggerDAGRunPostBody,
)
from slipstream.management_api.datamodels.task_instances import TaskInstanceCollectionResponse
from slipstream.management_api.security import admin_claims
from slipstream.services import marking, runs
from slipstream.store.dag_runs import DagRuns
from slipstream.store.dags import Dags

router = APIRouter(prefix="/dags/{dag_id}/dagRuns", tags=["DagRun"])


@router.post("", response_model=DAGRunResponse, responses={404: {}, 409: {}})
async def trigger_dag_run(
    dag_id: str, body: TriggerDAGRunPostBody, claims: Annotated[AdminClaims, Depends(admin_claims)]
) -> DAGRunResponse:
    """Create a `manual` run: running at once when the DAG has a free slot; a paused DAG's run
    is created too, and waits until it is unpaused. Answered as written (no read after it)."""
    run = runs.trigger(
        dag_id,
        run_id=body.dag_run_id,
        run_type="manual",
        logical_date=body.logical_date,
        conf=body.conf,
        note=body.note,
        triggering_user_name=claims.subject,
    )
    return DAGRunResponse.of(run)


@router.get("", response_model=DAGRunCollectionResponse, responses={404: {}})
async def get_dag_runs(
    dag_id: str,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
    state: Annotated[list[DagRunState] | None, Query()] = None,
) -> DAGRunCollectionResponse:
    """Newest first (by logical date, else run_after)."""
    Dags().get(dag_id)
    found = [r for r in DagRuns().list_for_dag(dag_id) if not state or r.get("state") in state]
    return DAGRunCollectionResponse(
        dag_runs=[DAGRunResponse.of(r) for r in page(found, limit, offset)], total_entries=len(found)
    )


@router.get("/{dag_run_id}", response_model=DAGRunResponse, responses={404: {}})
async def get_dag_run(dag_id: str, dag_run_id: str) -> DAGRunResponse:
    return DAGRunResponse.of(DagRuns().get(dag_id, dag_run_id))


@router.patch("/{dag_run_id}", response_model=DAGRunResponse, responses={404: {}, 409: {}})
async def patch_dag_run(dag_id: str, dag_run_id: str, body: DAGRunPatchBody) -> DAGRunResponse:
    """Mark the run (and its unfinished task instances, see `marking`)."""
    Dags().get(dag_id, consistent=True)
    return DAGRunResponse.of(marking.mark_run(dag_id, dag_run_id, body.state))


@router.delete("/{dag_run_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}, 409: {}})
async def delete_dag_run(dag_id: str, dag_run_id: str) -> Response:
    Dags().get(dag_id, consistent=True)
    deletion.delete_run(dag_id, dag_run_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{dag_run_id}/clear", response_model=TaskInstanceCollectionResponse, responses={404: {}})
async def clear_dag_run(
    dag_id: str, dag_run_id: str, body: DAGRunClearBody
) -> TaskInstanceCollectionResponse:
    """Clear the run's task instances (only the failed ones with `only_failed`); returns them."""
    runs.require_dag(dag_id)
    task_ids = clearing.failed_task_ids(dag_id, dag_run_id) if body.only_failed else None
    return TaskInstanceCollectionResponse.of(
        clearing.clear(dag_id, dag_run_id, task_ids, dry_run=body.dry_run)
    )
