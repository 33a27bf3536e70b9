"""Task instances (live ones and archived tries) as Airflow's public API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from slipstream.management_api.datamodels.common import ResponseModel, RunId, StrictModel, TaskId, Timespan
from slipstream.store.codec import Item


class TaskInstanceResponse(Timespan):
    id: str
    task_id: str
    dag_id: str
    dag_run_id: str
    map_index: int
    state: str | None
    try_number: int
    max_tries: int
    hostname: str | None
    unixname: str | None
    pid: int | None
    queue: str | None
    pool_slots: int
    priority_weight: int
    operator: str | None
    queued_when: datetime | None
    rendered_map_index: str | None

    @classmethod
    def of(cls, ti: Item) -> TaskInstanceResponse:
        return cls.model_validate(
            {
                **{name: ti.get(name) for name in _COPIED},
                "dag_run_id": ti["run_id"],
                "map_index": int(ti.get("map_index", -1)),
                "try_number": int(ti.get("try_number", 0)),
                "max_tries": int(ti.get("max_tries", 0)),
                "pool_slots": int(ti.get("pool_slots", 1)),
                "priority_weight": int(ti.get("priority_weight", 1)),
                "queued_when": ti.get("queued_at"),
            }
        )


_COPIED = (
    "id",
    "task_id",
    "dag_id",
    "state",
    "start_date",
    "end_date",
    "hostname",
    "unixname",
    "pid",
    "queue",
    "operator",
    "rendered_map_index",
)


class TaskInstanceCollectionResponse(ResponseModel):
    task_instances: list[TaskInstanceResponse]
    total_entries: int

    @classmethod
    def of(cls, tis: list[Item]) -> TaskInstanceCollectionResponse:
        return cls(task_instances=[TaskInstanceResponse.of(ti) for ti in tis], total_entries=len(tis))


class ClearTaskInstancesBody(StrictModel):
    """Clear some tasks of one run; `include_upstream`/`include_downstream` follow the DAG's edges."""

    dag_run_id: RunId
    task_ids: list[TaskId] = Field(min_length=1)
    include_upstream: bool = False
    include_downstream: bool = False
    dry_run: bool = False


class TaskInstancesLogResponse(ResponseModel):
    content: str
    try_number: int
    truncated: bool = Field(description="Only the end of a log larger than the response limit is sent.")
