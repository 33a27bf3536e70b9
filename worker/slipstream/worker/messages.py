"""The messages the Task Runner and the Supervisor exchange over the requests channel.

Every body carries a `type` discriminator. Requests that end up as an Execution API call subclass
the API's payload model (as in Airflow's `comms.py`), so a message is its own HTTP body minus
`type` and there is no second copy of the fields to keep in sync. See `comms` for the framing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, JsonValue, TypeAdapter

from slipstream.worker.models import (
    BundleInfo,
    ConnectionResponse,
    TaskInstance,
    TIRetryStatePayload,
    TIRunContext,
    TISkippedDownstreamTasksStatePayload,
    TISuccessStatePayload,
    TITerminalStatePayload,
    VariableResponse,
    XComResponse,
)

# --- runner -> supervisor -------------------------------------------------------------------


class SucceedTask(TISuccessStatePayload):
    type: Literal["SucceedTask"] = "SucceedTask"


class RetryTask(TIRetryStatePayload):
    type: Literal["RetryTask"] = "RetryTask"


class TaskState(TITerminalStatePayload):
    """failed / skipped / removed: the try ended for good."""

    type: Literal["TaskState"] = "TaskState"


class SkipDownstreamTasks(TISkippedDownstreamTasksStatePayload):
    type: Literal["SkipDownstreamTasks"] = "SkipDownstreamTasks"


class SetRenderedFields(BaseModel):
    type: Literal["SetRenderedFields"] = "SetRenderedFields"
    rendered_fields: dict[str, JsonValue]


class SetExecutionTimeout(BaseModel):
    """Sent just before `execute()` when the task has an `execution_timeout`: the Supervisor stops
    the runner if it has not reported a terminal state `seconds` later."""

    type: Literal["SetExecutionTimeout"] = "SetExecutionTimeout"
    seconds: float


class GetVariable(BaseModel):
    type: Literal["GetVariable"] = "GetVariable"
    key: str


class PutVariable(BaseModel):
    type: Literal["PutVariable"] = "PutVariable"
    key: str
    value: str | None
    description: str | None = None


class GetConnection(BaseModel):
    type: Literal["GetConnection"] = "GetConnection"
    conn_id: str


class GetXCom(BaseModel):
    type: Literal["GetXCom"] = "GetXCom"
    key: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int | None = None
    include_prior_dates: bool = False


class SetXCom(BaseModel):
    type: Literal["SetXCom"] = "SetXCom"
    key: str
    value: JsonValue
    dag_id: str
    run_id: str
    task_id: str
    map_index: int | None = None
    mapped_length: int | None = None


class DeleteXCom(BaseModel):
    type: Literal["DeleteXCom"] = "DeleteXCom"
    key: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int | None = None


ToSupervisor = Annotated[
    SucceedTask
    | RetryTask
    | TaskState
    | SkipDownstreamTasks
    | SetRenderedFields
    | SetExecutionTimeout
    | GetVariable
    | PutVariable
    | GetConnection
    | GetXCom
    | SetXCom
    | DeleteXCom,
    Field(discriminator="type"),
]

# --- supervisor -> runner -------------------------------------------------------------------


class PreloadDagFile(BaseModel):
    """May be pushed as frame id 0 before `/run`: the runner imports the file while `/run` is in
    flight (a runner starts before its try is known, so it cannot be told earlier). None: the
    workload's bundle is not configured here, which the try reports once it starts."""

    type: Literal["PreloadDagFile"] = "PreloadDagFile"
    path: str | None


class StartupDetails(BaseModel):
    """Pushed unprompted as frame id 0 once `/run` has answered: everything the runner needs."""

    type: Literal["StartupDetails"] = "StartupDetails"
    ti: TaskInstance
    dag_rel_path: str
    bundle_info: BundleInfo
    start_date: datetime
    ti_context: TIRunContext
    sentry_integration: str = ""


class VariableResult(VariableResponse):
    type: Literal["VariableResult"] = "VariableResult"


class ConnectionResult(ConnectionResponse):
    type: Literal["ConnectionResult"] = "ConnectionResult"


class XComResult(XComResponse):
    type: Literal["XComResult"] = "XComResult"


class ErrorType(StrEnum):
    CONNECTION_NOT_FOUND = "CONNECTION_NOT_FOUND"
    VARIABLE_NOT_FOUND = "VARIABLE_NOT_FOUND"
    XCOM_NOT_FOUND = "XCOM_NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    GENERIC_ERROR = "GENERIC_ERROR"
    API_SERVER_ERROR = "API_SERVER_ERROR"


class ErrorResponse(BaseModel):
    """Sent in the error slot of a response frame; the runner raises `AirflowRuntimeError`."""

    type: Literal["ErrorResponse"] = "ErrorResponse"
    error: ErrorType = ErrorType.GENERIC_ERROR
    detail: dict[str, Any] | None = None


Pushed = Annotated[PreloadDagFile | StartupDetails, Field(discriminator="type")]
"""What the Supervisor sends unprompted (frame id 0), in that order."""

ToRunner = Annotated[
    StartupDetails | VariableResult | ConnectionResult | XComResult,
    Field(discriminator="type"),
]

to_supervisor: TypeAdapter[ToSupervisor] = TypeAdapter(ToSupervisor)
to_runner: TypeAdapter[ToRunner] = TypeAdapter(ToRunner)
pushed: TypeAdapter[Pushed] = TypeAdapter(Pushed)
