"""Building blocks shared by the resource models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01 at +05:00 is before the calendar's first UTC moment
        raise ValueError("datetime is outside the range UTC can hold") from None


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware datetime, normalised to UTC (serialised with a `Z`); naive values are a 422."""

RunId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.~:+-]+$", min_length=1, max_length=250)]
"""Airflow's default `allowed_run_id_pattern`: no `/` (run ids are path segments) and no `#`
(run ids are part of the table's keys)."""

Pid = Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
"""A process id, as Airflow's task-instance table holds it (a 32-bit integer)."""


class StrictModel(BaseModel):
    """Request bodies: unknown keys are a 422 (`extra_forbidden`), as in Airflow. So is NaN or
    Infinity anywhere in them (Python's JSON parser accepts both): stored, no JSON response could
    carry them back."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ResponseModel(BaseModel):
    """Response bodies. Their validators are built on first use, not at import: a cold start
    serves one route and needs at most one of them (about 25 ms of the handler's import).
    Request bodies are built at import: FastAPI wraps them with the parameter's `Body()` info,
    and a model built inside that wrapper makes pydantic warn that the alias has no effect."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def response_models() -> Iterator[type[ResponseModel]]:
    """Every response model imported so far (the management API's come with its first request)."""
    pending = [ResponseModel]
    while pending:
        model = pending.pop()
        yield model
        pending.extend(model.__subclasses__())


def build_response_models() -> None:
    """Build the validators of every response model imported so far (SnapStart: into the snapshot)."""
    for model in response_models():
        model.model_rebuild()


class AssetProfile(StrictModel):
    name: str | None = None
    uri: str | None = None
    type: Literal["Asset", "AssetNameRef", "AssetUriRef", "AssetAlias"]


class MessageResponse(ResponseModel):
    message: str


JsonObject = dict[str, JsonValue]
NonEmptyStr = Annotated[str, Field(min_length=1)]
Extra = Any
