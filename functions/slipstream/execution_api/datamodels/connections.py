from __future__ import annotations

from pydantic import ConfigDict, Field

from slipstream.execution_api.datamodels.common import ResponseModel


class ConnectionResponse(ResponseModel):
    conn_id: str
    conn_type: str
    host: str | None
    schema_: str | None = Field(default=None, alias="schema")
    login: str | None
    password: str | None
    port: int | None
    extra: str | None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
