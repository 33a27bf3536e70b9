"""`Connection`: credentials for an external system, fetched through the Execution API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote, urlencode

from slipstream.sdk import _runtime
from slipstream.sdk._exceptions import AirflowRuntimeError


@dataclass
class Connection:
    conn_id: str
    conn_type: str
    host: str | None = None
    schema: str | None = None
    login: str | None = None
    password: str | None = None
    port: int | None = None
    extra: str | None = None

    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """The connection `conn_id`; `KeyError` if the API does not know it."""
        from slipstream.worker.messages import GetConnection

        try:
            result = _runtime.request(GetConnection(conn_id=conn_id))
        except AirflowRuntimeError as exc:
            if exc.error == "CONNECTION_NOT_FOUND":
                raise KeyError(f"The conn_id `{conn_id}` isn't defined") from None
            raise
        return cls(
            conn_id=result.conn_id,
            conn_type=result.conn_type,
            host=result.host,
            schema=result.schema_,
            login=result.login,
            password=result.password,
            port=result.port,
            extra=result.extra,
        )

    @cached_property
    def extra_dejson(self) -> dict[str, Any]:
        """`extra` parsed as a JSON object (empty if it is missing or not an object)."""
        try:
            value = json.loads(self.extra or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def get_uri(self) -> str:
        """Airflow's URI form: `type://login:password@host:port/schema?extra`."""
        uri = f"{self.conn_type.replace('_', '-')}://"
        if self.login or self.password:
            uri += quote(self.login or "", safe="")
            if self.password:
                uri += ":" + quote(self.password, safe="")
            uri += "@"
        uri += quote(self.host or "", safe="")
        if self.port:
            uri += f":{self.port}"
        if self.schema:
            uri += "/" + quote(self.schema, safe="")
        extra = self.extra_dejson
        if extra:
            flat = all(isinstance(v, str) for v in extra.values())
            uri += "?" + urlencode(extra if flat else {"__extra__": json.dumps(extra)})
        return uri
