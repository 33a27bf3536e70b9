"""The worker's copy of the wire models is checked against the server's OpenAPI schema.

The models are defined once, on the server (`slipstream.execution_api.datamodels`); the worker
cannot import them (it ships without server code), so its copy in
`slipstream.worker.models` must match the schema the server publishes: same field names, and the
worker requires no field the server may leave out (responses) and sends no field the server does
not accept (requests).
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel
from starlette.testclient import TestClient

from slipstream.worker import models

# Worker model -> (server schema name, direction)
PAIRS: dict[type[BaseModel], tuple[str, str]] = {
    models.TIEnterRunningPayload: ("TIEnterRunningPayload", "request"),
    models.TIHeartbeatInfo: ("TIHeartbeatInfo", "request"),
    models.TISuccessStatePayload: ("TISuccessStatePayload", "request"),
    models.TITerminalStatePayload: ("TITerminalStatePayload", "request"),
    models.TIRetryStatePayload: ("TIRetryStatePayload", "request"),
    models.TISkippedDownstreamTasksStatePayload: ("TISkippedDownstreamTasksStatePayload", "request"),
    models.VariablePostBody: ("VariablePostBody", "request"),
    models.TIRunContext: ("TIRunContext", "response"),
    models.DagRun: ("DagRun", "response"),
    models.VariableResponse: ("VariableResponse", "response"),
    models.ConnectionResponse: ("ConnectionResponse", "response"),
    models.XComResponse: ("XComResponse", "response"),
    models.AssetEventDagRunReference: ("AssetEventDagRunReference", "response"),
}


@pytest.fixture(scope="module")
def schemas() -> dict[str, Any]:
    from slipstream.execution_api.app import create_app

    with TestClient(create_app()) as client:
        document = client.get("/openapi.json", params={"version": "2026-06-30"}).json()
    return dict(document["components"]["schemas"])


def _fields(model: type[BaseModel]) -> tuple[set[str], set[str]]:
    names = {field.alias or name for name, field in model.model_fields.items()}
    required = {field.alias or name for name, field in model.model_fields.items() if field.is_required()}
    return names, required


@pytest.mark.parametrize("model", list(PAIRS), ids=lambda m: m.__name__)
def test_worker_model_matches_server_schema(model: type[BaseModel], schemas: dict[str, Any]) -> None:
    schema_name, direction = PAIRS[model]
    matching = [name for name in schemas if name == schema_name or name.startswith(schema_name + "-")]
    assert matching, f"the server publishes no {schema_name} schema"
    schema = schemas[matching[0]]
    server_fields = set(schema.get("properties", {}))
    server_required = set(schema.get("required", []))
    names, required = _fields(model)
    assert names == server_fields, f"{model.__name__}: worker {sorted(names)}, server {sorted(server_fields)}"
    if direction == "response":
        assert required <= server_required, f"{model.__name__} requires what the server may omit"
    else:
        assert server_required <= names, f"{model.__name__} does not send what the server requires"
