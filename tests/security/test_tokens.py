"""The JWT battery against every protected operation of both APIs, taken from their OpenAPI
documents so that a new route is attacked without anyone listing it: each forged, misplaced or
stale token is refused with 401 or 403, never served and never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

from slipstream.local.seed import execution_token
from tests.api.conftest import RUN_BODY
from tests.security.conftest import EXECUTION, MANAGEMENT, Operation, World, call, protected
from tests.security.tokens import FORGERIES, admin_claims, bearer, sign, task_claims

REFUSED = {401, 403}


def _not_refused(api: TestClient, world: World, tokens: dict[Operation, str | None]) -> dict[str, int]:
    """Each operation that served its token, with the status it answered."""
    values = world.path_values()
    answered = {
        str(op): call(api, op, values, headers=bearer(token)).status_code for op, token in tokens.items()
    }
    return {op: status for op, status in answered.items() if status not in REFUSED}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_tokens_are_refused_everywhere(api: TestClient, world: World, forgery: str) -> None:
    forge = FORGERIES[forgery]
    task, admin = forge(task_claims(world.ti.item)), forge(admin_claims())
    tokens = {op: task if op.api == EXECUTION else admin for op in protected()}
    assert _not_refused(api, world, tokens) == {}


Misplacement = Callable[[World, Operation], str | None]
MISPLACED: dict[str, tuple[str, Callable[[Operation], bool], Misplacement]] = {
    "admin token on task routes": (EXECUTION, lambda op: True, lambda w, op: w.admin_token),
    "workload token elsewhere than /run": (
        EXECUTION,
        lambda op: not op.template.endswith("/run"),
        lambda w, op: w.ti.workload_token,
    ),
    "another TI's token on ti:self routes": (EXECUTION, lambda op: op.ti_self, lambda w, op: w.other.token),
    "execution token on /api/v2": (MANAGEMENT, lambda op: True, lambda w, op: w.ti.token),
    "workload token on /api/v2": (MANAGEMENT, lambda op: True, lambda w, op: w.ti.workload_token),
}


@pytest.mark.parametrize("case", list(MISPLACED))
def test_valid_tokens_in_the_wrong_place_are_refused(api: TestClient, world: World, case: str) -> None:
    api_prefix, applies, token = MISPLACED[case]
    tokens = {op: token(world, op) for op in protected(api_prefix) if applies(op)}
    assert tokens
    assert _not_refused(api, world, tokens) == {}


def test_a_finished_ti_never_gets_a_new_token(api: TestClient, world: World) -> None:
    """Near expiry, a token for a TI in a terminal state is renewed by no ti:self route."""
    ti = world.ti
    started = api.patch(f"{EXECUTION}/task-instances/{ti.id}/run", json=RUN_BODY, headers=ti.workload_headers)
    assert started.status_code == 200
    finished = api.patch(
        f"{EXECUTION}/task-instances/{ti.id}/state",
        json={"state": "success", "end_date": "2026-07-01T12:05:00Z"},
        headers=ti.headers,
    )
    assert finished.status_code == 204
    now = int(time.time())
    tokens = (
        sign(task_claims(ti.item, iat=now - 590, exp=now + 10)),
        ti.workload_token,
        execution_token(ti.item),
    )
    renewed = []
    for op in protected(EXECUTION):
        for token in tokens if op.ti_self else ():
            response = call(api, op, world.path_values(), headers=bearer(token), json={})
            if response.status_code >= 500 or "Refreshed-API-Token" in response.headers:
                renewed.append((str(op), response.status_code))
    assert renewed == []


def test_health_stays_open(api: TestClient) -> None:
    assert api.get(f"{EXECUTION}/health").status_code == 200
