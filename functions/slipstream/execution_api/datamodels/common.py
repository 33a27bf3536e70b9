"""Building blocks shared by the resource models."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone")
    return value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(_utc)]
"""A timezone-aware datetime, normalised to UTC (serialised with a `Z`); naive values are a 422."""


class StrictModel(BaseModel):
    """Request bodies: unknown keys are a 422 (`extra_forbidden`), as in Airflow."""

    model_config = ConfigDict(extra="forbid")


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
