"""HTTP client for the Execution API, used by the Supervisor only (never by task code).

Follows Airflow's task-sdk client where it matters to a server: relative paths under a base URL
that ends in `/execution/`, the `Airflow-API-Version` header, a bearer token that is replaced
whenever any response (errors included) carries `Refreshed-API-Token`, and retries with jittered
exponential backoff on transport errors, 5xx and 429 only: other 4xx answers are decisions
(404/409/410 on heartbeat mean "stop"), so retrying them would only delay the reaction.

`calls` counts every request sent (retries included) by endpoint and `http_seconds` adds up the
time spent in them (request sent to response read), so a benchmark can read the HTTP cost of a try
from the Supervisor's result or its final log record.
"""

from __future__ import annotations

import contextlib
import platform
import ssl
import time
from collections import Counter
from functools import cache
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, JsonValue
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from slipstream.worker.models import (
    API_VERSION,
    ConnectionResponse,
    TIEnterRunningPayload,
    TIHeartbeatInfo,
    TIRunContext,
    TISkippedDownstreamTasksStatePayload,
    TIStateUpdate,
    VariablePostBody,
    VariableResponse,
    XComResponse,
)
from slipstream.worker.settings import WorkerSettings


class ServerResponseError(Exception):
    """The API answered with an error status; `detail` is the body's `detail` (or its text)."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(f"HTTP {status_code}: {detail}")
        self.status_code = status_code
        self.detail = detail

    @classmethod
    def from_response(cls, response: httpx.Response) -> ServerResponseError:
        detail: Any = response.text
        if response.headers.get("content-type", "").startswith("application/json"):
            with contextlib.suppress(ValueError, AttributeError):
                detail = response.json().get("detail", detail)
        return cls(response.status_code, detail)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ServerResponseError) and (exc.status_code >= 500 or exc.status_code == 429)


def _seg(part: str) -> str:
    """A path segment as Airflow's SDK sends it (`+` and `:` of run ids stay literal)."""
    return quote(part, safe=":+@!$&'()*,;=~")


def _key(key: str) -> str:
    """An XCom or variable key: a `{key:path}` parameter, so `/` stays literal."""
    return quote(key, safe="/:+@!$&'()*,;=~")


@cache
def _tls() -> ssl.SSLContext:
    """Built once per process (about 40 ms: it loads the CA bundle); each try's client reuses it,
    and the worker builds it before forking so no try pays for it."""
    return ssl.create_default_context()


def _body(model: BaseModel) -> dict[str, Any]:
    # Comms messages subclass these payloads; their `type` discriminator is not part of the API body.
    return model.model_dump(mode="json", exclude={"type"})


class Client:
    """One client per try: it holds that try's token (workload first, then execution)."""

    def __init__(
        self, settings: WorkerSettings, token: str, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.token = token
        self.calls: Counter[str] = Counter()
        self.http_seconds = 0.0
        self._http = httpx.Client(
            base_url=settings.execution_api_url,
            timeout=settings.api_timeout,
            verify=_tls(),
            transport=transport,
            limits=httpx.Limits(max_keepalive_connections=1, max_connections=10),
            headers={
                "Airflow-API-Version": API_VERSION,
                "User-Agent": f"slipstream-worker (Python/{platform.python_version()})",
            },
            event_hooks={"response": [self._update_token]},
        )
        self._retrying = Retrying(
            retry=retry_if_exception(_retryable),
            wait=wait_random_exponential(min=settings.api_retry_wait_min, max=settings.api_retry_wait_max),
            stop=stop_after_attempt(settings.api_retries),
            reraise=True,
        )

    def close(self) -> None:
        self._http.close()

    def _update_token(self, response: httpx.Response) -> None:
        refreshed = response.headers.get("Refreshed-API-Token")
        if refreshed:
            self.token = refreshed

    def _request(self, label: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        for attempt in self._retrying:
            with attempt:
                self.calls[label] += 1
                sent = time.monotonic()
                try:
                    response = self._http.request(
                        method, path, headers={"Authorization": f"Bearer {self.token}"}, **kwargs
                    )
                finally:
                    self.http_seconds += time.monotonic() - sent
                if response.is_error:
                    raise ServerResponseError.from_response(response)
        return response

    # --- task instances ---------------------------------------------------------------------

    def run(self, ti_id: str, payload: TIEnterRunningPayload) -> TIRunContext:
        response = self._request("run", "PATCH", f"task-instances/{ti_id}/run", json=_body(payload))
        return TIRunContext.model_validate_json(response.content)

    def heartbeat(self, ti_id: str, payload: TIHeartbeatInfo) -> None:
        self._request("heartbeat", "PUT", f"task-instances/{ti_id}/heartbeat", json=_body(payload))

    def set_state(self, ti_id: str, payload: TIStateUpdate) -> None:
        self._request("state", "PATCH", f"task-instances/{ti_id}/state", json=_body(payload))

    def skip_downstream(self, ti_id: str, payload: TISkippedDownstreamTasksStatePayload) -> None:
        self._request(
            "skip_downstream", "PATCH", f"task-instances/{ti_id}/skip-downstream", json=_body(payload)
        )

    def set_rtif(self, ti_id: str, fields: dict[str, JsonValue]) -> None:
        self._request("rtif", "PUT", f"task-instances/{ti_id}/rtif", json=fields)

    # --- variables and connections ----------------------------------------------------------

    def get_variable(self, key: str) -> VariableResponse:
        response = self._request("variables.get", "GET", f"variables/{_key(key)}")
        return VariableResponse.model_validate_json(response.content)

    def put_variable(self, key: str, body: VariablePostBody) -> None:
        self._request("variables.put", "PUT", f"variables/{_key(key)}", json=_body(body))

    def get_connection(self, conn_id: str) -> ConnectionResponse:
        response = self._request("connections.get", "GET", f"connections/{_seg(conn_id)}")
        return ConnectionResponse.model_validate_json(response.content)

    # --- xcoms ------------------------------------------------------------------------------

    @staticmethod
    def _xcom_path(dag_id: str, run_id: str, task_id: str, key: str) -> str:
        return f"xcoms/{_seg(dag_id)}/{_seg(run_id)}/{_seg(task_id)}/{_key(key)}"

    @staticmethod
    def _map_index(map_index: int | None) -> dict[str, Any]:
        return {"map_index": map_index} if map_index is not None and map_index >= 0 else {}

    def get_xcom(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str,
        map_index: int | None = None,
        include_prior_dates: bool = False,
    ) -> XComResponse:
        params = self._map_index(map_index)
        if include_prior_dates:
            params["include_prior_dates"] = "true"
        response = self._request(
            "xcoms.get", "GET", self._xcom_path(dag_id, run_id, task_id, key), params=params
        )
        return XComResponse.model_validate_json(response.content)

    def set_xcom(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str,
        value: JsonValue,
        map_index: int | None = None,
        mapped_length: int | None = None,
    ) -> None:
        params = self._map_index(map_index)
        if mapped_length is not None:
            params["mapped_length"] = mapped_length
        self._request(
            "xcoms.set", "POST", self._xcom_path(dag_id, run_id, task_id, key), params=params, json=value
        )

    def delete_xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int | None = None
    ) -> None:
        self._request(
            "xcoms.delete",
            "DELETE",
            self._xcom_path(dag_id, run_id, task_id, key),
            params=self._map_index(map_index),
        )
