"""Variables and connections CRUD; secrets never leave in a response."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from slipstream.store.connections import Connections
from slipstream.store.variables import Variables


def test_variable_lifecycle(client: TestClient) -> None:
    created = client.post("variables", json={"key": "team/bucket", "value": "b1", "description": "d"})
    assert created.status_code == 201
    assert created.json() == {"key": "team/bucket", "value": "b1", "description": "d"}
    assert client.post("variables", json={"key": "team/bucket", "value": "x"}).status_code == 409
    client.post("variables", json={"key": "limits", "value": {"max": 3}})
    assert Variables().get("limits")["value"] == '{"max": 3}'
    listed = client.get("variables").json()
    assert ([v["key"] for v in listed["variables"]], listed["total_entries"]) == (
        ["limits", "team/bucket"],
        2,
    )
    assert client.get("variables/team/bucket").json()["value"] == "b1"

    patched = client.patch("variables/team/bucket", json={"value": "b2"})
    assert patched.json() == {"key": "team/bucket", "value": "b2", "description": "d"}
    assert client.patch("variables/team/bucket", json={"key": "other", "value": "x"}).status_code == 400

    assert client.delete("variables/team/bucket").status_code == 204
    assert client.get("variables/team/bucket").status_code == 404
    assert client.delete("variables/team/bucket").status_code == 404
    assert client.patch("variables/team/bucket", json={"value": "x"}).status_code == 404


def test_variable_errors_name_the_field(client: TestClient) -> None:
    missing = client.post("variables", json={"key": "k"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "value"]
    extra = client.patch("variables/k", json={"val": "1"})
    assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["body", "val"]


def test_sensitive_variables_are_masked(client: TestClient) -> None:
    client.post("variables", json={"key": "api_key", "value": "s3cr3t"})
    client.post("variables", json={"key": "service", "value": {"url": "u", "password": "p"}})
    assert client.get("variables/api_key").json()["value"] == "***"
    assert json.loads(client.get("variables/service").json()["value"]) == {"url": "u", "password": "***"}
    assert Variables().get("api_key")["value"] == "s3cr3t"


def test_connection_from_fields(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    body = {
        "connection_id": "db",
        "conn_type": "postgres",
        "host": "h",
        "login": "u",
        "password": "pw-0xd1ce",
        "schema": "s",
        "port": 5432,
        "extra": {"sslmode": "require", "token": "t"},
    }
    created = client.post("connections", json=body)
    assert created.status_code == 201, created.text
    shown = created.json()
    assert shown == {
        "connection_id": "db",
        "conn_type": "postgres",
        "host": "h",
        "login": "u",
        "schema": "s",
        "password": "***",
        "port": 5432,
        "extra": json.dumps({"sslmode": "require", "token": "***"}),
    }
    assert client.get("connections/db").json() == shown
    assert client.get("connections").json() == {"connections": [shown], "total_entries": 1}
    stored = Connections().get("db")
    assert stored["password"] == "pw-0xd1ce" and json.loads(stored["extra"])["token"] == "t"
    assert client.post("connections", json=body).status_code == 409
    token = client.headers["Authorization"].removeprefix("Bearer ")
    logged = " ".join(str(vars(record)) for record in caplog.records)
    assert "management write" in logged and "/api/v2/connections" in logged
    assert "pw-0xd1ce" not in logged and token not in logged


def test_connection_from_uri(client: TestClient) -> None:
    created = client.post("connections", json={"connection_id": "pg", "uri": "postgres://u:p%40ss@h:5433/db"})
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("conn_type", "host", "port", "schema", "login", "password")} == {
        "conn_type": "postgres",
        "host": "h",
        "port": 5433,
        "schema": "db",
        "login": "u",
        "password": "***",
    }
    assert Connections().get("pg")["password"] == "p@ss"
    # `slipstream connections set` replaces an existing connection by PATCHing the same body.
    replaced = client.patch("connections/pg", json={"connection_id": "pg", "uri": "mysql://h2"})
    assert replaced.status_code == 200, replaced.text
    assert Connections().get("pg") == {
        "conn_id": "pg",
        "conn_type": "mysql",
        "host": "h2",
        "schema": None,
        "login": None,
        "password": None,
        "port": None,
        "extra": None,
    }


def test_connection_patch_keeps_what_is_not_sent(client: TestClient) -> None:
    client.post(
        "connections", json={"connection_id": "db", "conn_type": "postgres", "host": "h", "password": "pw"}
    )
    shown = client.get("connections/db").json()
    patched = client.patch("connections/db", json={**shown, "host": "h2"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["host"] == "h2" and patched.json()["password"] == "***"
    assert Connections().get("db")["password"] == "pw"
    client.patch("connections/db", json={"password": None})
    assert client.get("connections/db").json()["password"] is None
    assert client.patch("connections/db", json={"connection_id": "x"}).status_code == 400
    assert client.patch("connections/nope", json={"host": "h"}).status_code == 404


def test_connection_errors(client: TestClient) -> None:
    both = client.post("connections", json={"connection_id": "c", "uri": "http://h", "host": "h"})
    assert both.status_code == 422 and "either uri or" in both.json()["detail"][0]["msg"]
    bad_uri = client.post("connections", json={"connection_id": "c", "uri": "no-scheme"})
    assert bad_uri.status_code == 422 and bad_uri.json()["detail"][0]["loc"] == ["body", "uri"]
    no_type = client.post("connections", json={"connection_id": "c", "host": "h"})
    assert no_type.status_code == 422 and "conn_type" in no_type.json()["detail"][0]["msg"]
    bad_id = client.post("connections", json={"connection_id": "a b", "conn_type": "http"})
    assert bad_id.status_code == 422 and bad_id.json()["detail"][0]["loc"] == ["body", "connection_id"]
    bad_extra = client.post("connections", json={"connection_id": "c", "conn_type": "http", "extra": "[1]"})
    assert bad_extra.status_code == 422 and bad_extra.json()["detail"][0]["loc"][:2] == ["body", "extra"]
    assert client.get("connections/nope").status_code == 404
    assert client.delete("connections/nope").status_code == 404


def test_delete_connection(client: TestClient) -> None:
    client.post("connections", json={"connection_id": "db", "conn_type": "postgres"})
    assert client.delete("connections/db").status_code == 204
    assert client.get("connections/db").status_code == 404
