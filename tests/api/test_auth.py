"""Every auth rule: who may call what, which tokens are refused and why, refresh and rotation."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from slipstream.auth.keys import forget_keys, key_ring, new_key_document
from slipstream.auth.tokens import mint_admin_token, validate_task_token
from slipstream.core.settings import get_settings
from slipstream.local.seed import execution_token, queue_ti, start_run
from tests.api.conftest import QueuedTI, start
from tests.support import env


def _claims(ti: QueuedTI, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    item = ti.item
    return {
        "aud": "urn:airflow.apache.org:task",
        "iss": "slipstream",
        "sub": ti.id,
        "scope": "execution",
        "ti": [item["dag_id"], item["run_id"], item["task_id"], -1],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }


def _sign(
    claims: dict[str, Any], *, key: bytes | None = None, kid: str | None = "k1", alg: str = "HS512"
) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key or key_ring().signing_key, algorithm=alg, headers=headers)


def _heartbeat(client: TestClient, ti: QueuedTI, token: str | None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.put(
        f"task-instances/{ti.id}/heartbeat", json={"hostname": "worker-1", "pid": 1234}, headers=headers
    )


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{part(claims)}."


def test_missing_token_is_401(client: TestClient, queued: QueuedTI) -> None:
    response = _heartbeat(client, queued, None)
    assert response.status_code == 401
    assert response.json() == {"detail": "Missing auth token"}
    basic = client.put(
        f"task-instances/{queued.id}/heartbeat", json={}, headers={"Authorization": "Basic abc"}
    )
    assert basic.status_code == 401


def test_auth_comes_before_body_validation(client: TestClient, queued: QueuedTI) -> None:
    response = client.put(f"task-instances/{queued.id}/heartbeat", json={"bogus": 1}, headers={})
    assert response.status_code == 401


def _rsa_token(claims: dict[str, Any]) -> str:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": "k1"})


ATTACKS = {
    "malformed": lambda ti: "not.a.jwt",
    "alg none": lambda ti: _unsigned(_claims(ti)),
    "RS256 instead of HS512": lambda ti: _rsa_token(_claims(ti)),
    "HS256 with the same key": lambda ti: _sign(_claims(ti), alg="HS256"),
    "wrong key": lambda ti: _sign(_claims(ti), key=b"x" * 64),
    "unknown kid": lambda ti: _sign(_claims(ti), kid="nope"),
    "missing kid": lambda ti: _sign(_claims(ti), kid=None),
    "wrong audience": lambda ti: _sign(_claims(ti, aud="urn:other")),
    "wrong issuer": lambda ti: _sign(_claims(ti, iss="someone-else")),
    "expired beyond grace": lambda ti: _sign(
        _claims(ti, iat=int(time.time()) - 700, exp=int(time.time()) - 60)
    ),
    "not yet valid": lambda ti: _sign(_claims(ti, nbf=int(time.time()) + 300)),
    "missing exp": lambda ti: _sign({k: v for k, v in _claims(ti).items() if k != "exp"}),
    "bogus scope": lambda ti: _sign(_claims(ti, scope="bogus:scope")),
    "sub not a uuid": lambda ti: _sign(_claims(ti, sub="not-a-uuid")),
    "no ti claim": lambda ti: _sign({k: v for k, v in _claims(ti).items() if k != "ti"}),
    "admin token": lambda ti: mint_admin_token("ops"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_bad_tokens_are_403(client: TestClient, queued: QueuedTI, attack: str) -> None:
    assert start(client, queued).status_code == 200
    response = _heartbeat(client, queued, ATTACKS[attack](queued))
    assert response.status_code == 403, response.text
    assert response.json()["detail"].startswith("Invalid auth token")


def test_tampered_payload_is_403(client: TestClient, queued: QueuedTI) -> None:
    header, payload, signature = queued.token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "workload"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert _heartbeat(client, queued, f"{header}.{forged}.{signature}").status_code == 403


def test_token_for_another_ti_is_403(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    other_run = start_run(run_id="other")
    other, _ = queue_ti("example", other_run["run_id"], "hello")
    response = _heartbeat(client, queued, execution_token(other))
    assert response.status_code == 403
    assert response.json() == {"detail": "Token subject does not match task instance ID"}


def test_uppercase_uuid_in_path_is_403(client: TestClient, queued: QueuedTI) -> None:
    response = client.put(
        f"task-instances/{queued.id.upper()}/heartbeat",
        json={"hostname": "h", "pid": 1},
        headers=queued.headers,
    )
    assert response.status_code == 403


def test_workload_token_only_on_run(client: TestClient, queued: QueuedTI) -> None:
    for method, path in [
        ("GET", "variables/x"),
        ("GET", f"xcoms/example/{queued.item['run_id']}/hello/k"),
        ("GET", "connections/x"),
        ("PATCH", f"task-instances/{queued.id}/state"),
    ]:
        response = client.request(method, path, headers=queued.workload_headers, json={})
        assert response.status_code == 403, (method, path)


def test_no_refresh_early_in_a_tokens_life(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    response = _heartbeat(client, queued, queued.token)
    assert response.status_code == 204
    assert "Refreshed-API-Token" not in response.headers


def test_refresh_near_expiry_and_within_grace(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    near = _sign(_claims(queued, iat=int(time.time()) - 500, exp=int(time.time()) + 100))
    refreshed = _heartbeat(client, queued, near)
    assert refreshed.status_code == 204
    new = validate_task_token(refreshed.headers["Refreshed-API-Token"])
    assert new.ti_id == queued.id and new.scope == "execution" and new.lifetime == 600
    expired_in_grace = _sign(_claims(queued, iat=int(time.time()) - 605, exp=int(time.time()) - 5))
    again = _heartbeat(client, queued, expired_in_grace)
    assert again.status_code == 204
    assert "Refreshed-API-Token" in again.headers


def test_no_new_token_for_a_finished_ti(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    client.patch(
        f"task-instances/{queued.id}/state",
        json={"state": "success", "end_date": "2026-07-01T12:05:00Z"},
        headers=queued.headers,
    )
    near = _sign(_claims(queued, iat=int(time.time()) - 590, exp=int(time.time()) + 10))
    response = _heartbeat(client, queued, near)
    assert response.status_code == 409
    assert "Refreshed-API-Token" not in response.headers


def test_short_lived_tokens_refresh_every_call(client: TestClient, queued: QueuedTI) -> None:
    with env(SLIPSTREAM_EXECUTION_TOKEN_TTL="5"):
        assert start(client, queued).status_code == 200
        token = execution_token(queued.item)
        for _ in range(3):
            response = _heartbeat(client, queued, token)
            assert response.status_code == 204
            token = response.headers["Refreshed-API-Token"]
            assert validate_task_token(token).lifetime == 5


def test_key_rotation_keeps_old_tokens_valid(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    old_token = queued.token
    old_doc = json.loads(
        boto3.client("secretsmanager").get_secret_value(SecretId=get_settings().signing_key_secret)[
            "SecretString"
        ]
    )
    new_doc = json.loads(new_key_document("k2"))
    rotated = {"keys": new_doc["keys"] + old_doc["keys"]}
    boto3.client("secretsmanager").put_secret_value(
        SecretId=get_settings().signing_key_secret, SecretString=json.dumps(rotated)
    )
    forget_keys()
    assert _heartbeat(client, queued, old_token).status_code == 204
    fresh = execution_token(queued.item)
    assert jwt.get_unverified_header(fresh)["kid"] == "k2"
    assert _heartbeat(client, queued, fresh).status_code == 204


def test_a_remembered_token_still_expires_and_dies_with_its_key(client: TestClient, queued: QueuedTI) -> None:
    assert start(client, queued).status_code == 200
    with env(SLIPSTREAM_JWT_LEEWAY="0"):
        expires = int(time.time()) + 2
        short = _sign(_claims(queued, exp=expires))
        assert _heartbeat(client, queued, short).status_code == 204  # verified, and remembered
        time.sleep(max(0.0, expires - time.time()) + 0.1)
        expired = _heartbeat(client, queued, short)
        assert expired.status_code == 403
        assert expired.json()["detail"] == "Invalid auth token: token expired"
    remembered = _sign(_claims(queued))
    assert _heartbeat(client, queued, remembered).status_code == 204
    # the key is retired (a ring without k1): the remembered token goes with it
    boto3.client("secretsmanager").put_secret_value(
        SecretId=get_settings().signing_key_secret, SecretString=new_key_document("k2")
    )
    forget_keys()
    retired = _heartbeat(client, queued, remembered)
    assert retired.status_code == 403
    assert retired.json()["detail"] == "Invalid auth token: unknown kid"
