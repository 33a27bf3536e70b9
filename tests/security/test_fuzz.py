"""Schemathesis against both OpenAPI documents, in process, with valid tokens: no 500, and every
response conforms to the operation's declared status codes, content type and schema.

Schemas load at import (building the apps needs no AWS); tokens, ids and the moto state come from
the `world` fixture per test, since schemathesis' fixture-based loader does not run on pytest 9."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import status_code_conformance

from slipstream.execution_api.app import create_app as create_execution_app
from slipstream.management_api.app import create_app as create_management_app
from tests.security.conftest import API_VERSION, World
from tests.security.tokens import bearer

EXAMPLES = 10
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
CONFIG = SchemathesisConfig.from_dict(
    {
        # Dates other than the one version answer 404 by design (Airflow's rule for unknown
        # versions), which the per-operation schemas do not list: pinned, not fuzzed.
        "parameters": {"header.Airflow-API-Version": API_VERSION},
        "generation": {"max-examples": EXAMPLES, "database": "none"},
        "phases": {"coverage": {"enabled": False}, "stateful": {"enabled": False}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    }
)
execution = schemathesis.openapi.from_asgi(
    f"/openapi.json?version={API_VERSION}", create_execution_app(), config=CONFIG
)
management = schemathesis.openapi.from_asgi("/openapi.json", create_management_app(), config=CONFIG)
FUZZ = settings(
    deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)  # same cases every CI run


def _aim(case: schemathesis.Case, world: World) -> None:
    """The world's TI id where the operation takes one: a random id only ever meets 403."""
    if case.path_parameters and "task_instance_id" in case.path_parameters:
        case.path_parameters["task_instance_id"] = world.ti.id


def _call_and_validate(case: schemathesis.Case, token: str) -> None:
    """As `case.call_and_validate`, except that a body that is not JSON at all (not UTF-8) gets
    FastAPI's own 400 `There was an error parsing the body`, before any route runs: a framework
    answer no operation lists, so its status is not held against the schema."""
    response = case.call(headers=bearer(token))
    unparsable = response.status_code == 400 and "error parsing the body" in response.text
    case.validate_response(response, excluded_checks=[status_code_conformance] if unparsable else [])


@execution.parametrize()
@FUZZ
def test_execution_api(case: schemathesis.Case, world: World) -> None:
    _aim(case, world)
    _call_and_validate(case, world.ti.token)


@management.parametrize()
@FUZZ
def test_management_api(case: schemathesis.Case, world: World) -> None:
    _call_and_validate(case, world.admin_token)
