"""Dag runs as Airflow's public API shows them, and the bodies that trigger, mark and clear them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal

from pydantic import Field

from slipstream.execution_api.datamodels.common import JsonObject
from slipstream.execution_api.datamodels.dag_runs import DagRunState, DagRunType
from slipstream.management_api.datamodels.common import (
    ResponseModel,
    RunId,
    StrictModel,
    Timespan,
    UtcDateTime,
)
from slipstream.store.codec import Item


class TriggerDAGRunPostBody(StrictModel):
    dag_run_id: RunId | None = None
    logical_date: UtcDateTime | None = None
    conf: JsonObject = Field(default_factory=dict)
    note: str | None = None


class DAGRunPatchBody(StrictModel):
    """Airflow's DAGRunPatchStates: a run can be marked, not moved into `running`."""

    state: Literal["queued", "success", "failed"]


class DAGRunClearBody(StrictModel):
    dry_run: bool = False
    only_failed: bool = False


class DAGRunResponse(Timespan):
    dag_run_id: str
    dag_id: str
    logical_date: datetime | None
    queued_at: datetime | None
    data_interval_start: datetime | None
    data_interval_end: datetime | None
    run_after: datetime
    run_type: DagRunType
    state: DagRunState
    triggering_user_name: str | None
    conf: JsonObject | None
    note: str | None
    clear_number: int

    @classmethod
    def of(cls, run: Item) -> DAGRunResponse:
        return cls.model_validate(
            {
                "dag_run_id": run["run_id"],
                **{name: run.get(name) for name in _COPIED},
                "conf": json.loads(run["conf"]) if run.get("conf") else None,
                "clear_number": int(run.get("clear_number", 0)),
            }
        )


_COPIED = (
    "dag_id",
    "logical_date",
    "queued_at",
    "start_date",
    "end_date",
    "data_interval_start",
    "data_interval_end",
    "run_after",
    "run_type",
    "state",
    "triggering_user_name",
    "note",
)


class DAGRunCollectionResponse(ResponseModel):
    dag_runs: list[DAGRunResponse]
    total_entries: int
