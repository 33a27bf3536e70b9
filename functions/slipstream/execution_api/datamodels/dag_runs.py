"""DagRun as workers see it (strict in the Task SDK: no key may be added)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from slipstream.execution_api.datamodels.common import JsonObject, ResponseModel, StrictModel, UtcDateTime

DagRunType = Literal[
    "backfill", "scheduled", "manual", "operator_triggered", "asset_triggered", "asset_materialization"
]
DagRunState = Literal["queued", "running", "success", "failed"]


class AssetReference(ResponseModel):
    name: str
    uri: str
    extra: JsonObject


class AliasReference(ResponseModel):
    name: str


class AssetEventDagRunReference(ResponseModel):
    asset: AssetReference
    extra: JsonObject
    source_task_id: str | None
    source_dag_id: str | None
    source_run_id: str | None
    source_map_index: int | None
    source_aliases: list[AliasReference]
    timestamp: datetime
    partition_key: str | None = None


class DagRun(ResponseModel):
    dag_id: str
    run_id: str
    logical_date: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_after: datetime
    start_date: datetime | None
    end_date: datetime | None
    clear_number: int = 0
    run_type: DagRunType
    state: DagRunState
    conf: JsonObject | None = None
    triggering_user_name: str | None = None
    consumed_asset_events: list[AssetEventDagRunReference]
    partition_key: str | None
    partition_date: datetime | None = None
    note: str | None = None
    team_name: str | None = None


class DagRunStateResponse(ResponseModel):
    state: DagRunState


class TriggerDAGRunPayload(StrictModel):
    logical_date: UtcDateTime | None = None
    run_after: UtcDateTime | None = None
    conf: JsonObject = Field(default_factory=dict)
    reset_dag_run: bool = False
    partition_key: str | None = None
    note: str | None = None
