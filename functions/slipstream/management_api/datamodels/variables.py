"""Variables: Airflow's VariableBody / VariableResponse. A value that is not a string is stored as
its JSON text, as `Variable.set(serialize_json=True)` does."""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, JsonValue

from slipstream.management_api.datamodels.common import ResponseModel, StrictModel
from slipstream.management_api.redaction import redact_json_text
from slipstream.store.codec import Item

VariableKey = Annotated[str, Field(min_length=1, max_length=250)]


def stored_value(value: JsonValue) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class VariableBody(StrictModel):
    key: VariableKey
    value: JsonValue
    description: str | None = None


class VariablePatchBody(StrictModel):
    """Only the fields sent are changed; `key`, if sent, must be the path's."""

    key: str | None = None
    value: JsonValue = None
    description: str | None = None


class VariableResponse(ResponseModel):
    """`value` is masked as Airflow masks it: whole under a sensitive key, else the sensitive
    keys of a JSON object (two levels deep)."""

    key: str
    value: str | None
    description: str | None

    @classmethod
    def of(cls, item: Item) -> VariableResponse:
        key = str(item["key"])
        return cls(
            key=key,
            value=redact_json_text(item.get("value"), name=key, depth=1),
            description=item.get("description"),
        )


class VariableCollectionResponse(ResponseModel):
    variables: list[VariableResponse]
    total_entries: int
