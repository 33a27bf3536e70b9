"""Variables and connections as tasks read and write them."""

from __future__ import annotations

import json

import boto3
from starlette.testclient import TestClient

from slipstream.store.connections import Connections
from tests.api.conftest import QueuedTI


def test_variable_lifecycle(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    assert client.put("variables/a/b", json={"val": "1", "description": "d"}, headers=h).status_code == 201
    assert client.put("variables/a/c", json={"value": "2"}, headers=h).json() == {
        "message": "Variable successfully set"
    }
    assert client.get("variables/a/b", headers=h).json() == {"key": "a/b", "value": "1"}
    missing = client.get("variables/zzz", headers=h)
    assert missing.status_code == 404
    assert missing.json() == {
        "detail": {"reason": "not_found", "message": "Variable with key 'zzz' not found"}
    }
    assert client.delete("variables/a/b", headers=h).status_code == 204
    assert client.delete("variables/a/b", headers=h).status_code == 204
    assert client.get("variables/a/b", headers=h).status_code == 404


def test_variable_body_errors_name_the_field(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    missing = client.put("variables/k", json={"description": "x"}, headers=h)
    assert missing.status_code == 422 and missing.json()["detail"][0]["type"] == "missing"
    extra = client.put("variables/k", json={"val": "1", "key": "k"}, headers=h)
    assert extra.status_code == 422 and extra.json()["detail"][0]["type"] == "extra_forbidden"


def test_variable_keys_pages_and_literal_prefix(client: TestClient, queued: QueuedTI) -> None:
    h = queued.headers
    for key in ("p_1", "p_2", "p%3", "px", "q"):
        client.put(f"variables/{key}", json={"val": key}, headers=h)
    assert client.get("variables/keys", params={"prefix": "p_"}, headers=h).json() == {
        "keys": ["p_1", "p_2"],
        "total_entries": 2,
    }
    page = client.get("variables/keys", params={"prefix": "p", "limit": 2, "offset": 1}, headers=h).json()
    assert page == {"keys": ["p_1", "p_2"], "total_entries": 4}
    assert client.get("variables/keys", params={"limit": 0}, headers=h).status_code == 422
    assert client.get("variables/keys", params={"offset": -1}, headers=h).status_code == 422


def test_connection_from_dynamodb(client: TestClient, queued: QueuedTI) -> None:
    Connections().put(
        "db",
        {
            "conn_type": "postgres",
            "host": "h",
            "login": "u",
            "password": "p",
            "port": 5432,
            "extra": {"a": 1},
        },
    )
    got = client.get("connections/db", headers=queued.headers)
    assert got.status_code == 200
    assert got.json() == {
        "conn_id": "db",
        "conn_type": "postgres",
        "host": "h",
        "schema": None,
        "login": "u",
        "password": "p",
        "port": 5432,
        "extra": '{"a": 1}',
    }
    missing = client.get("connections/nope", headers=queued.headers)
    assert missing.json() == {
        "detail": {"reason": "not_found", "message": "Connection with ID nope not found"}
    }


def test_connection_from_secrets_manager_wins(client: TestClient, queued: QueuedTI) -> None:
    Connections().put("db", {"conn_type": "postgres", "host": "from-dynamodb"})
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    secrets.create_secret(
        Name="airflow/connections/db",
        SecretString="postgres://u%40x:p%2Fw@from-secrets:6543/sch?sslmode=require",
    )
    secrets.create_secret(
        Name="airflow/connections/js",
        SecretString=json.dumps(
            {"conn_type": "http", "host": "api", "password": "tok", "extra": {"timeout": 3}}
        ),
    )
    got = client.get("connections/db", headers=queued.headers).json()
    assert got["host"] == "from-secrets" and got["login"] == "u@x" and got["password"] == "p/w"
    assert (
        got["port"] == 6543 and got["schema"] == "sch" and json.loads(got["extra"]) == {"sslmode": "require"}
    )
    js = client.get("connections/js", headers=queued.headers).json()
    assert js["conn_type"] == "http" and json.loads(js["extra"]) == {"timeout": 3}
