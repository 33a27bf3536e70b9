"""The DAG document (docs/dag-document.schema.json) as a request body, and the DAG as returned.

Optional fields take Airflow's defaults and the stored document is the validated one with every
field filled in, so the scheduler never has to guess a default. Graph checks (unique task ids,
known upstream tasks, no cycle) report `tasks` as the failing field.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Discriminator, Field, JsonValue, Tag, field_validator

from slipstream.management_api.datamodels.common import DagId, ResponseModel, StrictModel, TaskId
from slipstream.management_api.graph import find_cycle
from slipstream.services.trigger_rules import TriggerRule
from slipstream.store.codec import Item
from slipstream.store.dags import run_limit_of

Seconds = Annotated[float, Field(ge=0)]
DEFAULT_MAX_ACTIVE = 16
"""Airflow's `max_active_runs_per_dag` and `max_active_tasks_per_dag`."""
NonEmpty = Annotated[str, Field(min_length=1)]


def _absent(value: object) -> bool:
    return value is None


class CronSchedule(StrictModel):
    cron: str

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression")
        return value


class IntervalSchedule(StrictModel):
    interval_seconds: Annotated[int, Field(ge=1)]


class AssetSchedule(StrictModel):
    assets: Annotated[list[str], Field(min_length=1)]


def _schedule_kind(value: Any) -> str | None:
    fields = value if isinstance(value, dict) else vars(value)
    return next((kind for kind in ("cron", "interval_seconds", "assets") if kind in fields), None)


Schedule = Annotated[
    Annotated[CronSchedule, Tag("cron")]
    | Annotated[IntervalSchedule, Tag("interval_seconds")]
    | Annotated[AssetSchedule, Tag("assets")],
    Discriminator(_schedule_kind),
]
"""Told apart by their one key, so that an error names that key only."""


class Outlet(StrictModel):
    name: str
    uri: str


class Task(StrictModel):
    task_id: TaskId
    upstream: list[TaskId] = Field(default_factory=list)
    trigger_rule: TriggerRule = "all_success"
    retries: Annotated[int, Field(ge=0)] = 0
    retry_delay: Seconds = 300.0
    retry_exponential_backoff: bool = False
    max_retry_delay: Seconds | None = None
    execution_timeout: Seconds | None = None
    queue: NonEmpty = "default"
    operator: str = "BaseOperator"
    outlets: list[Outlet] = Field(default_factory=list)

    @field_validator("upstream")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("upstream task ids must be unique")
        return value


class DagDocument(StrictModel):
    schema_version: Literal[1] = 1
    dag_id: DagId
    fileloc: NonEmpty
    bundle_name: NonEmpty = "dags-folder"
    fail_fast: bool = False
    max_active_runs: Annotated[int, Field(ge=1)] = DEFAULT_MAX_ACTIVE
    max_active_tasks: Annotated[int, Field(ge=1)] = DEFAULT_MAX_ACTIVE
    schedule: Schedule | None = None
    start_date: AwareDatetime | None = None
    catchup: bool = False
    params: dict[str, JsonValue] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    # Optional and left out of the stored document when absent, so a document registers unchanged.
    dagrun_timeout: Seconds | None = Field(
        None,
        exclude_if=_absent,
        description="A running run older than this fails; its unfinished tasks are skipped.",
    )
    variables: list[NonEmpty] | None = Field(
        None, exclude_if=_absent, description="Variables its tasks may use under strict isolation."
    )
    connections: list[NonEmpty] | None = Field(
        None, exclude_if=_absent, description="Connections its tasks may use under strict isolation."
    )
    tasks: list[Task]

    @field_validator("tasks")
    @classmethod
    def _a_dag(cls, tasks: list[Task]) -> list[Task]:
        upstream: dict[str, list[str]] = {}
        for task in tasks:
            if task.task_id in upstream:
                raise ValueError(f"duplicate task_id {task.task_id!r}")
            upstream[task.task_id] = task.upstream
        for task in tasks:
            unknown = sorted(set(task.upstream) - upstream.keys())
            if unknown:
                raise ValueError(f"task {task.task_id!r} has unknown upstream tasks {unknown}")
        cycle = find_cycle(upstream)
        if cycle:
            raise ValueError(f"tasks form a cycle: {' -> '.join(cycle)}")
        return tasks


class DAGPostBody(DagDocument):
    """What `slipstream dags serialize` prints, plus whether a new DAG starts paused."""

    is_paused: bool = False

    def document(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"is_paused"})


class DAGPatchBody(StrictModel):
    is_paused: bool


class DagTagResponse(ResponseModel):
    name: str
    dag_id: str


class DAGResponse(ResponseModel):
    dag_id: str
    dag_display_name: str
    is_paused: bool
    fileloc: str
    bundle_name: str
    tags: list[DagTagResponse]
    timetable_summary: str | None
    max_active_runs: int
    max_active_tasks: int
    fail_fast: bool
    catchup: bool
    start_date: datetime | None
    dag_version_id: str
    last_parsed_time: datetime

    @classmethod
    def of(cls, item: Item) -> DAGResponse:
        """From the stored item; documents registered before a field existed get its default."""
        document = json.loads(item["document"])
        dag_id = item["dag_id"]
        return cls(
            dag_id=dag_id,
            dag_display_name=dag_id,
            is_paused=bool(item.get("is_paused")),
            fileloc=document["fileloc"],
            bundle_name=document.get("bundle_name", "dags-folder"),
            tags=[DagTagResponse(name=tag, dag_id=dag_id) for tag in document.get("tags") or []],
            timetable_summary=_timetable_summary(document.get("schedule")),
            max_active_runs=run_limit_of(item),  # the limit runs are counted against
            max_active_tasks=document.get("max_active_tasks", DEFAULT_MAX_ACTIVE),
            fail_fast=document.get("fail_fast", False),
            catchup=document.get("catchup", False),
            start_date=document.get("start_date"),
            dag_version_id=item["dag_version_id"],
            last_parsed_time=item["updated_at"],
        )


def _timetable_summary(schedule: dict[str, Any] | None) -> str | None:
    """As Airflow summarises its timetables: the cron expression, the interval, or `Asset`."""
    if not schedule:
        return None
    if "cron" in schedule:
        return str(schedule["cron"])
    if "interval_seconds" in schedule:
        return str(timedelta(seconds=schedule["interval_seconds"]))
    return "Asset"


class DAGCollectionResponse(ResponseModel):
    dags: list[DAGResponse]
    total_entries: int
