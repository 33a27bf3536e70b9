"""`.../taskInstances/{task_id}/logs/{try_number}`: one try's log, read from S3."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from slipstream.management_api.datamodels.common import MapIndex
from slipstream.management_api.datamodels.task_instances import TaskInstancesLogResponse
from slipstream.management_api.task_logs import read_log

router = APIRouter(prefix="/dags/{dag_id}/dagRuns/{dag_run_id}/taskInstances", tags=["Task Instance"])


@router.get("/{task_id}/logs/{try_number}", response_model=TaskInstancesLogResponse, responses={404: {}})
async def get_log(
    dag_id: str,
    dag_run_id: str,
    task_id: str,
    try_number: Annotated[int, Path(ge=1)],
    map_index: MapIndex = -1,
) -> TaskInstancesLogResponse:
    content, truncated = read_log(dag_id, dag_run_id, task_id, map_index, try_number)
    return TaskInstancesLogResponse(content=content, try_number=try_number, truncated=truncated)
