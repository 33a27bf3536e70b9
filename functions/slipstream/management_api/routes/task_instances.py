"""Task instances of a run: list, read, all tries, and clearing selected tasks."""

from __future__ import annotations

from fastapi import APIRouter

from slipstream.auth.tokens import TIKey
from slipstream.management_api import clearing, history
from slipstream.management_api.datamodels.common import DEFAULT_LIMIT, Limit, MapIndex, Offset, page
from slipstream.management_api.datamodels.task_instances import (
    ClearTaskInstancesBody,
    TaskInstanceCollectionResponse,
    TaskInstanceResponse,
)
from slipstream.services import runs
from slipstream.store.dag_runs import DagRunNotFound, DagRuns
from slipstream.store.errors import TaskInstanceNotFound
from slipstream.store.task_instances import TaskInstances

router = APIRouter(prefix="/dags/{dag_id}", tags=["Task Instance"])
RUN_TIS = "/dagRuns/{dag_run_id}/taskInstances"


@router.get(RUN_TIS, response_model=TaskInstanceCollectionResponse, responses={404: {}})
async def get_task_instances(
    dag_id: str, dag_run_id: str, limit: Limit = DEFAULT_LIMIT, offset: Offset = 0
) -> TaskInstanceCollectionResponse:
    """Sorted by task id, then map index."""
    run, tis = DagRuns().with_task_instances(dag_id, dag_run_id)
    if run is None:
        raise DagRunNotFound(dag_id, dag_run_id)
    tis.sort(key=lambda ti: (ti["task_id"], int(ti.get("map_index", -1))))
    return TaskInstanceCollectionResponse(
        task_instances=[TaskInstanceResponse.of(ti) for ti in page(tis, limit, offset)],
        total_entries=len(tis),
    )


@router.get(RUN_TIS + "/{task_id}", response_model=TaskInstanceResponse, responses={404: {}})
async def get_task_instance(
    dag_id: str, dag_run_id: str, task_id: str, map_index: MapIndex = -1
) -> TaskInstanceResponse:
    ti = TaskInstances().get(TIKey(dag_id, dag_run_id, task_id, map_index))
    if ti is None:
        raise TaskInstanceNotFound
    return TaskInstanceResponse.of(ti)


@router.get(RUN_TIS + "/{task_id}/tries", response_model=TaskInstanceCollectionResponse, responses={404: {}})
async def get_task_instance_tries(
    dag_id: str, dag_run_id: str, task_id: str, map_index: MapIndex = -1
) -> TaskInstanceCollectionResponse:
    """Every try, oldest first: archived tries and the live task instance."""
    return TaskInstanceCollectionResponse.of(history.tries(TIKey(dag_id, dag_run_id, task_id, map_index)))


@router.post("/clearTaskInstances", response_model=TaskInstanceCollectionResponse, responses={404: {}})
async def clear_task_instances(dag_id: str, body: ClearTaskInstancesBody) -> TaskInstanceCollectionResponse:
    """Clear `task_ids` in one run, with their upstream and/or downstream tasks if asked."""
    runs.require_dag(dag_id)
    task_ids = clearing.with_relatives(
        dag_id, body.task_ids, upstream=body.include_upstream, downstream=body.include_downstream
    )
    return TaskInstanceCollectionResponse.of(
        clearing.clear(dag_id, body.dag_run_id, task_ids, dry_run=body.dry_run)
    )
