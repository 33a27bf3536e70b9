from __future__ import annotations

from pydantic import JsonValue

from slipstream.execution_api.datamodels.common import ResponseModel


class XComResponse(ResponseModel):
    key: str
    value: JsonValue


XComSequenceSliceResponse = list[JsonValue]
