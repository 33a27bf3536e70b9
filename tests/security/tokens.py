"""Forged tokens: every way a bearer token can be wrong, for task and admin claims alike."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from slipstream.auth.keys import key_ring
from slipstream.auth.tokens import ADMIN_AUDIENCE

TASK_AUDIENCE = "urn:airflow.apache.org:task"


def task_claims(ti: dict[str, Any], scope: str = "execution", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "aud": TASK_AUDIENCE,
        "iss": "slipstream",
        "sub": ti["id"],
        "scope": scope,
        "ti": [ti["dag_id"], ti["run_id"], ti["task_id"], int(ti.get("map_index", -1))],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }


def admin_claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "aud": ADMIN_AUDIENCE,
        "iss": "slipstream",
        "sub": "ops",
        "scope": "admin",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        **overrides,
    }


def sign(claims: dict[str, Any], *, key: bytes | None = None, kid: str = "k1", alg: str = "HS512") -> str:
    return jwt.encode(claims, key or key_ring().signing_key, algorithm=alg, headers={"kid": kid})


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{part(claims)}."


@cache
def _rsa_pem() -> bytes:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _expired(claims: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {**claims, "iat": now - 700, "nbf": now - 700, "exp": now - 60}


Forgery = Callable[[dict[str, Any]], str | None]

FORGERIES: dict[str, Forgery] = {
    "no token": lambda claims: None,
    "malformed": lambda claims: "not.a.jwt",
    "alg none": _unsigned,
    "HS/RS confusion (RS256)": lambda claims: jwt.encode(
        claims, _rsa_pem(), algorithm="RS256", headers={"kid": "k1"}
    ),
    "HS256 with the real key": lambda claims: sign(claims, alg="HS256"),
    "wrong key": lambda claims: sign(claims, key=b"x" * 64),
    "unknown kid": lambda claims: sign(claims, kid="nope"),
    "wrong audience": lambda claims: sign({**claims, "aud": "urn:other"}),
    "wrong issuer": lambda claims: sign({**claims, "iss": "someone-else"}),
    "expired beyond grace": lambda claims: sign(_expired(claims)),
    "not yet valid": lambda claims: sign({**claims, "nbf": int(time.time()) + 300}),
}
"""Each turns valid claims into a token the API must refuse (None: send no Authorization)."""


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}
