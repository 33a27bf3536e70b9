"""Task-instance models: the `/run` handshake, state payloads, heartbeat and lookups."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, JsonValue

from slipstream.execution_api.datamodels.common import (
    AssetProfile,
    JsonObject,
    Pid,
    ResponseModel,
    StrictModel,
    UtcDateTime,
)
from slipstream.execution_api.datamodels.dag_runs import DagRun

TerminalState = Literal["failed", "skipped", "removed", "upstream_failed"]


class TIEnterRunningPayload(StrictModel):
    state: Literal["running"]
    hostname: str
    unixname: str
    pid: Pid
    start_date: UtcDateTime


class TIHeartbeatInfo(StrictModel):
    hostname: str
    pid: Pid


class TISuccessStatePayload(StrictModel):
    state: Literal["success"]
    end_date: UtcDateTime
    task_outlets: list[AssetProfile] = Field(default_factory=list)
    outlet_events: list[JsonObject] = Field(default_factory=list)
    rendered_map_index: str | None = None


class TITerminalStatePayload(StrictModel):
    state: TerminalState
    end_date: UtcDateTime
    rendered_map_index: str | None = None


class TIRetryStatePayload(StrictModel):
    state: Literal["up_for_retry"]
    end_date: UtcDateTime
    rendered_map_index: str | None = None
    retry_delay_seconds: float | None = Field(default=None, ge=0)
    retry_reason: str | None = None


class TIDeferredStatePayload(StrictModel):
    state: Literal["deferred"]
    classpath: str
    trigger_kwargs: JsonObject | str = Field(default_factory=dict)
    trigger_timeout: timedelta | None = None
    queue: str | None = None
    next_method: str
    next_kwargs: JsonObject = Field(default_factory=dict)
    rendered_map_index: str | None = None


class TIRescheduleStatePayload(StrictModel):
    state: Literal["up_for_reschedule"]
    reschedule_date: UtcDateTime
    end_date: UtcDateTime


class TIAwaitingInputStatePayload(StrictModel):
    state: Literal["awaiting_input"]
    timeout: timedelta | None = None
    next_method: str
    next_kwargs: JsonObject = Field(default_factory=dict)
    rendered_map_index: str | None = None


class TITargetStatePayload(StrictModel):
    state: Literal["scheduled", "queued", "restarting"]


TIStateUpdate = Annotated[
    TISuccessStatePayload
    | TITerminalStatePayload
    | TIRetryStatePayload
    | TIDeferredStatePayload
    | TIRescheduleStatePayload
    | TIAwaitingInputStatePayload
    | TITargetStatePayload,
    Field(discriminator="state"),
]


class VariableEntry(ResponseModel):
    key: str
    value: str | None


class TIRunContext(ResponseModel):
    dag_run: DagRun
    task_reschedule_count: int = 0
    max_tries: int
    variables: list[VariableEntry] = Field(default_factory=list)
    connections: list[JsonObject] = Field(default_factory=list)
    xcom_keys_to_clear: list[str] = Field(default_factory=list)
    should_retry: bool = False
    next_method: str | None = None
    next_kwargs: JsonObject | str | None = None
    start_date: datetime | None = None


class TISkippedDownstreamTasksStatePayload(StrictModel):
    tasks: list[str | tuple[str, int]]


class PrevSuccessfulDagRunResponse(ResponseModel):
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None


class InactiveAssetsResponse(ResponseModel):
    inactive_assets: list[AssetProfile] = Field(default_factory=list)


class TaskStatesResponse(ResponseModel):
    task_states: dict[str, dict[str, str | None]]


class TaskBreadcrumb(ResponseModel):
    task_id: str
    map_index: int
    state: str | None
    operator: str | None
    duration: float | None


class TaskBreadcrumbsResponse(ResponseModel):
    breadcrumbs: list[TaskBreadcrumb]


class PreviousTIResponse(ResponseModel):
    task_id: str
    dag_id: str
    run_id: str
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    state: str | None = None
    try_number: int
    map_index: int = -1
    duration: float | None = None


class TaskInstance(ResponseModel):
    """The TI inside an ExecuteTask workload (lenient in Airflow; strict here since we emit it)."""

    id: UUID
    task_id: str
    dag_id: str
    run_id: str
    try_number: int
    dag_version_id: UUID
    map_index: int = -1
    hostname: str | None = None
    context_carrier: dict[str, str] | None = None
    queue: str = "default"
    pool_slots: int = 1
    priority_weight: int = 1


class BundleInfo(ResponseModel):
    name: str
    version: str | None = None


class ExecuteTask(ResponseModel):
    """The queue message: Airflow's `ExecuteTask` workload, parseable by its `execute_workload`."""

    type: Literal["ExecuteTask"] = "ExecuteTask"
    token: str
    ti: TaskInstance
    dag_rel_path: str
    bundle_info: BundleInfo
    log_path: str | None
    sentry_integration: str = ""


RenderedFields = dict[str, JsonValue]
