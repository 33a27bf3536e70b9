"""The worker's copy of the Execution API wire models (version 2026-06-30).

Names, fields and strictness follow Airflow's task-sdk (`api/datamodels/_generated.py`) and the
executor's `ExecuteTask` workload, so they can be checked against the server's OpenAPI schema.
Request bodies and the models Airflow's SDK validates strictly forbid unknown keys; `TaskInstance`
and `TIRunContext` are lenient.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

API_VERSION = "2026-06-30"


class StrictBaseModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskInstanceState(StrEnum):
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    RESTARTING = "restarting"
    FAILED = "failed"
    UP_FOR_RETRY = "up_for_retry"
    UP_FOR_RESCHEDULE = "up_for_reschedule"
    UPSTREAM_FAILED = "upstream_failed"
    SKIPPED = "skipped"
    REMOVED = "removed"
    DEFERRED = "deferred"
    AWAITING_INPUT = "awaiting_input"


class TerminalStateNonSuccess(StrEnum):
    """Terminal states that are reported without extra information."""

    FAILED = "failed"
    SKIPPED = "skipped"
    REMOVED = "removed"
    UPSTREAM_FAILED = "upstream_failed"


class DagRunType(StrEnum):
    BACKFILL = "backfill"
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    OPERATOR_TRIGGERED = "operator_triggered"
    ASSET_TRIGGERED = "asset_triggered"
    ASSET_MATERIALIZATION = "asset_materialization"


class DagRunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"


# --- workload and task instance ---------------------------------------------------------------


class TaskInstance(BaseModel):
    """The task instance a Task Runner executes (inside workloads and `StartupDetails`)."""

    id: uuid.UUID
    task_id: str
    dag_id: str
    run_id: str
    try_number: int
    dag_version_id: uuid.UUID
    map_index: int = -1
    hostname: str | None = None
    context_carrier: dict[str, Any] | None = None
    queue: str = "default"


class TaskInstanceDTO(TaskInstance):
    """The executor's view of a task instance: what `ExecuteTask.ti` carries."""

    pool_slots: int
    priority_weight: int


class BundleInfo(BaseModel):
    name: str
    version: str | None = None


class ExecuteTask(BaseModel):
    """The workload a worker receives (one SQS message body): run one try of one task instance."""

    type: Literal["ExecuteTask"] = "ExecuteTask"
    token: str
    ti: TaskInstanceDTO
    dag_rel_path: str
    bundle_info: BundleInfo
    log_path: str | None
    sentry_integration: str = ""


# --- /run ------------------------------------------------------------------------------------


class TIEnterRunningPayload(StrictBaseModel):
    state: Literal[TaskInstanceState.RUNNING] = TaskInstanceState.RUNNING
    hostname: str
    unixname: str
    pid: int
    start_date: AwareDatetime


class AssetReferenceAssetEventDagRun(StrictBaseModel):
    name: str
    uri: str
    extra: dict[str, JsonValue]


class AssetAliasReferenceAssetEventDagRun(StrictBaseModel):
    name: str


class AssetEventDagRunReference(StrictBaseModel):
    asset: AssetReferenceAssetEventDagRun
    extra: dict[str, JsonValue]
    source_task_id: str | None
    source_dag_id: str | None
    source_run_id: str | None
    source_map_index: int | None
    source_aliases: list[AssetAliasReferenceAssetEventDagRun]
    timestamp: AwareDatetime
    partition_key: str | None = None


class DagRun(StrictBaseModel):
    dag_id: str
    run_id: str
    logical_date: AwareDatetime | None
    data_interval_start: AwareDatetime | None
    data_interval_end: AwareDatetime | None
    run_after: AwareDatetime
    start_date: AwareDatetime | None
    end_date: AwareDatetime | None
    clear_number: int = 0
    run_type: DagRunType
    state: DagRunState
    conf: dict[str, Any] | None = None
    triggering_user_name: str | None = None
    consumed_asset_events: list[AssetEventDagRunReference]
    partition_key: str | None
    partition_date: AwareDatetime | None = None
    note: str | None = None
    team_name: str | None = None


class VariableResponse(StrictBaseModel):
    key: str
    value: str | None


class ConnectionResponse(BaseModel):
    conn_id: str
    conn_type: str
    host: str | None = None
    schema_: str | None = Field(None, alias="schema")
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None

    model_config = ConfigDict(populate_by_name=True)


class TIRunContext(BaseModel):
    """The `/run` response: what the try needs to know from the server."""

    dag_run: DagRun
    task_reschedule_count: int = 0
    max_tries: int
    variables: list[VariableResponse] = Field(default_factory=list)
    connections: list[ConnectionResponse] = Field(default_factory=list)
    next_method: str | None = None
    next_kwargs: dict[str, Any] | str | None = None
    xcom_keys_to_clear: list[str] = Field(default_factory=list)
    should_retry: bool = False
    start_date: AwareDatetime | None = None


# --- heartbeat and state ---------------------------------------------------------------------


class TIHeartbeatInfo(StrictBaseModel):
    hostname: str
    pid: int


class AssetProfile(StrictBaseModel):
    name: str | None = None
    uri: str | None = None
    type: Literal["Asset", "AssetNameRef", "AssetUriRef", "AssetAlias"]


class TISuccessStatePayload(StrictBaseModel):
    state: Literal[TaskInstanceState.SUCCESS] = TaskInstanceState.SUCCESS
    end_date: AwareDatetime
    task_outlets: list[AssetProfile] = Field(default_factory=list)
    outlet_events: list[dict[str, Any]] = Field(default_factory=list)
    rendered_map_index: str | None = None


class TITerminalStatePayload(StrictBaseModel):
    state: TerminalStateNonSuccess
    end_date: AwareDatetime
    rendered_map_index: str | None = None


class TIRetryStatePayload(StrictBaseModel):
    state: Literal[TaskInstanceState.UP_FOR_RETRY] = TaskInstanceState.UP_FOR_RETRY
    end_date: AwareDatetime
    rendered_map_index: str | None = None
    retry_delay_seconds: float | None = None
    retry_reason: str | None = None


TIStateUpdate = TISuccessStatePayload | TITerminalStatePayload | TIRetryStatePayload
"""The `/state` bodies the worker sends (it never defers, reschedules or awaits input)."""


class TISkippedDownstreamTasksStatePayload(StrictBaseModel):
    tasks: list[str | tuple[str, int]]


# --- variables and xcoms ---------------------------------------------------------------------


class VariablePostBody(StrictBaseModel):
    val: str | None
    description: str | None = None


class XComResponse(BaseModel):
    key: str
    value: JsonValue
