"""Connections: Airflow's ConnectionBody (or a connection URI) in, ConnectionResponse out.

Responses never carry a password (`***` says one is set) and mask the sensitive keys of `extra`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, JsonValue, field_validator, model_validator

from slipstream.management_api.datamodels.common import ResponseModel, StrictModel
from slipstream.management_api.redaction import MASK, mask_password, redact_json_text
from slipstream.services.connections import parse_uri

ConnectionId = Annotated[str, Field(pattern=r"^[\w.-]+$", min_length=1, max_length=200)]
Port = Annotated[int, Field(ge=1, le=65535)]
FIELD_NAMES = ("conn_type", "host", "login", "schema_", "password", "port", "extra")


class ConnectionFields(StrictModel):
    """The fields as Airflow names them (`extra` a JSON object or its text), or instead a `uri`."""

    conn_type: str | None = None
    host: str | None = None
    login: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    password: str | None = None
    port: Port | None = None
    extra: str | dict[str, JsonValue] | None = None
    uri: str | None = Field(default=None, description="A connection URI instead of the fields.")

    @field_validator("extra")
    @classmethod
    def _json_object_text(cls, value: str | dict[str, JsonValue] | None) -> str | None:
        if value is None:
            return None
        if isinstance(value, dict):
            return json.dumps(value)
        try:
            parsed = json.loads(value)
        except ValueError:
            raise ValueError("extra must be a JSON object") from None
        if not isinstance(parsed, dict):
            raise ValueError("extra must be a JSON object")
        return value

    @field_validator("uri")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            parse_uri(value)
        return value

    @model_validator(mode="after")
    def _uri_or_fields(self) -> ConnectionFields:
        if self.uri is not None and self.model_fields_set & set(FIELD_NAMES):
            raise ValueError("give either uri or the connection fields, not both")
        return self

    def changes(self) -> dict[str, Any]:
        """What the request sets, by stored name: every field from a URI (it describes the whole
        connection), else the fields sent. A password sent back as `***` (what GET showed) means
        "unchanged", so a read-modify-write keeps the secret."""
        if self.uri is not None:
            return parse_uri(self.uri)
        sent = self.model_dump(by_alias=True, exclude_unset=True, include=set(FIELD_NAMES))
        if sent.get("password") == MASK:
            del sent["password"]
        return sent


class ConnectionBody(ConnectionFields):
    connection_id: ConnectionId

    @model_validator(mode="after")
    def _typed(self) -> ConnectionBody:
        if self.uri is None and not self.conn_type:
            raise ValueError("conn_type (or uri) is required")
        return self


class ConnectionPatchBody(ConnectionFields):
    """Only the fields sent (or all, from a `uri`) change; `connection_id`, if sent, must be the path's."""

    connection_id: str | None = None


class ConnectionResponse(ResponseModel):
    connection_id: str
    conn_type: str | None
    host: str | None
    login: str | None
    schema_: str | None = Field(alias="schema")
    password: str | None
    port: int | None
    extra: str | None

    @classmethod
    def of(cls, conn: dict[str, Any]) -> ConnectionResponse:
        return cls.model_validate(
            {
                "connection_id": conn["conn_id"],
                **{name: conn.get(name) for name in ("conn_type", "host", "login", "schema", "port")},
                "password": mask_password(conn.get("password")),
                "extra": redact_json_text(conn.get("extra")),
            }
        )


class ConnectionCollectionResponse(ResponseModel):
    connections: list[ConnectionResponse]
    total_entries: int
