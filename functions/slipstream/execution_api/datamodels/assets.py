from __future__ import annotations

from datetime import datetime

from pydantic import Field

from slipstream.execution_api.datamodels.common import JsonObject, ResponseModel


class AssetResponse(ResponseModel):
    name: str
    uri: str
    group: str
    extra: JsonObject | None = None


class DagRunAssetReference(ResponseModel):
    run_id: str
    dag_id: str
    logical_date: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    state: str
    data_interval_start: datetime | None = None
    data_interval_end: datetime | None = None
    partition_key: str | None = None


class AssetEventResponse(ResponseModel):
    id: int
    timestamp: datetime
    extra: JsonObject | None = None
    asset: AssetResponse
    created_dagruns: list[DagRunAssetReference] = Field(default_factory=list)
    source_task_id: str | None = None
    source_dag_id: str | None = None
    source_run_id: str | None = None
    source_map_index: int | None = None
    partition_key: str | None = None


class AssetEventsResponse(ResponseModel):
    asset_events: list[AssetEventResponse]
