"""Admin tokens only: missing 401, anything else (a task token included) 403, on every route."""

from __future__ import annotations

from starlette.testclient import TestClient

from slipstream.auth.tokens import mint_admin_token
from slipstream.local.seed import execution_token, register_dag, start_run
from slipstream.store.dag_runs import DagRuns

ROUTES = [
    ("GET", "dags"),
    ("POST", "dags"),
    ("GET", "dags/example"),
    ("PATCH", "dags/example"),
    ("DELETE", "dags/example"),
    ("POST", "dags/example/dagRuns"),
    ("GET", "dags/example/dagRuns"),
    ("GET", "dags/example/dagRuns/r"),
    ("PATCH", "dags/example/dagRuns/r"),
    ("DELETE", "dags/example/dagRuns/r"),
    ("POST", "dags/example/dagRuns/r/clear"),
    ("GET", "dags/example/dagRuns/r/taskInstances"),
    ("GET", "dags/example/dagRuns/r/taskInstances/hello"),
    ("GET", "dags/example/dagRuns/r/taskInstances/hello/tries"),
    ("GET", "dags/example/dagRuns/r/taskInstances/hello/logs/1"),
    ("POST", "dags/example/clearTaskInstances"),
    ("GET", "variables"),
    ("POST", "variables"),
    ("GET", "variables/a/b"),
    ("PATCH", "variables/a/b"),
    ("DELETE", "variables/a/b"),
    ("GET", "connections"),
    ("POST", "connections"),
    ("GET", "connections/db"),
    ("PATCH", "connections/db"),
    ("DELETE", "connections/db"),
]


def test_every_route_needs_a_token(client: TestClient) -> None:
    answers = {
        (method, path): client.request(method, path, headers={"Authorization": ""}, json={})
        for method, path in ROUTES
    }
    refused = {route: (r.status_code, r.json()) for route, r in answers.items()}
    assert refused == {route: (401, {"detail": "Missing auth token"}) for route in ROUTES}


def test_a_task_token_is_refused(client: TestClient) -> None:
    register_dag()
    run = start_run()
    _, tis = DagRuns().with_task_instances("example", run["run_id"])
    headers = {"Authorization": f"Bearer {execution_token(tis[0])}"}
    response = client.get("dags", headers=headers)
    assert response.status_code == 403
    assert response.json() == {"detail": "Invalid auth token: wrong audience"}


def test_garbage_and_expired_tokens_are_refused(client: TestClient) -> None:
    garbage = client.get("dags", headers={"Authorization": "Bearer not-a-jwt"})
    assert (garbage.status_code, garbage.json()) == (403, {"detail": "Invalid auth token: malformed token"})
    expired = client.get("dags", headers={"Authorization": f"Bearer {mint_admin_token('ops', ttl=-60)}"})
    assert (expired.status_code, expired.json()) == (403, {"detail": "Invalid auth token: token expired"})


def test_an_admin_token_is_accepted(client: TestClient) -> None:
    assert client.get("dags").json() == {"dags": [], "total_entries": 0}
