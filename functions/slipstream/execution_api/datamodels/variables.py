from __future__ import annotations

from pydantic import AliasChoices, Field

from slipstream.execution_api.datamodels.common import ResponseModel, StrictModel


class VariableResponse(ResponseModel):
    key: str
    value: str | None


class VariablePostBody(StrictModel):
    """`val` is what the Task SDK sends; `value` is accepted too, as Airflow does."""

    val: str | None = Field(validation_alias=AliasChoices("val", "value"))
    description: str | None = None


class VariableKeysResponse(ResponseModel):
    keys: list[str]
    total_entries: int
