"""Minting and validating Slipstream's JWTs.

Task tokens follow Airflow's execution API (`aud` = the task audience, `sub` = the TI id,
`scope` = `workload` | `execution`). They also carry `ti`, the TI's natural key
`[dag_id, run_id, task_id, map_index]`: signed, so the API can address the TI's DynamoDB item
directly and every heartbeat or state change is one round trip. Airflow's validators accept extra
claims and its refresh keeps them.

Admin tokens (management API) have their own audience, so neither kind is accepted where the
other is expected.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from slipstream.auth.keys import ALGORITHM, key_ring
from slipstream.core.settings import get_settings

ADMIN_AUDIENCE = "urn:slipstream:admin"
TaskScope = Literal["workload", "execution"]


class InvalidToken(Exception):
    """The token failed validation; `str(exc)` says why (never includes the token)."""


@dataclass(frozen=True)
class TIKey:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1


@dataclass(frozen=True)
class TaskClaims:
    ti_id: str
    scope: TaskScope
    key: TIKey
    issued_at: int
    expires_at: int
    raw: dict[str, Any]

    @property
    def lifetime(self) -> int:
        return self.expires_at - self.issued_at


@dataclass(frozen=True)
class AdminClaims:
    subject: str
    expires_at: int


def _encode(claims: dict[str, Any], ttl: int) -> str:
    settings = get_settings()
    ring = key_ring()
    now = int(time.time())
    payload = {
        **claims,
        "jti": uuid.uuid4().hex,
        "iss": settings.jwt_issuer,
        "iat": now,
        "nbf": now,
        "exp": now + ttl,
    }
    return jwt.encode(payload, ring.signing_key, algorithm=ALGORITHM, headers={"kid": ring.signing_kid})


def mint_task_token(ti_id: str, key: TIKey, scope: TaskScope, ttl: int | None = None) -> str:
    settings = get_settings()
    if ttl is None:
        ttl = settings.workload_token_ttl if scope == "workload" else settings.execution_token_ttl
    claims = {
        "aud": settings.jwt_audience,
        "sub": ti_id,
        "scope": scope,
        "ti": [key.dag_id, key.run_id, key.task_id, key.map_index],
    }
    return _encode(claims, ttl)


def refresh_task_token(claims: TaskClaims) -> str:
    """A new token from the old claims (same `sub`, `scope`, `ti`); new `jti`, `iat`, `exp`."""
    kept = {k: v for k, v in claims.raw.items() if k not in {"jti", "iss", "iat", "nbf", "exp"}}
    return _encode(kept, get_settings().execution_token_ttl)


def mint_admin_token(subject: str, ttl: int | None = None) -> str:
    settings = get_settings()
    return _encode(
        {"aud": ADMIN_AUDIENCE, "sub": subject, "scope": "admin"},
        ttl if ttl is not None else settings.admin_token_ttl,
    )


@dataclass(frozen=True)
class _Verified:
    kid: str
    key: bytes
    payload: dict[str, Any]


_VERIFIED_LIMIT = 4096
_verified: dict[tuple[str, str, str], _Verified] = {}
_verified_lock = threading.Lock()


def _decode(token: str, audience: str, leeway: int) -> dict[str, Any]:
    """The token's claims, if it is valid for `audience` now.

    A worker sends the same token with every heartbeat until it is refreshed, so a verified token
    is remembered (bounded, first in first out): checking its signature again would give the same
    answer as long as its key is still in the ring, and of its time claims only `exp` can turn
    (`nbf` and `iat` passed already). That saves about a quarter of a warm heartbeat.
    """
    issuer = get_settings().jwt_issuer
    cache_key = (token, audience, issuer)
    hit = _verified.get(cache_key)
    if hit is not None and key_ring().keys.get(hit.kid) == hit.key:
        if hit.payload["exp"] <= time.time() - leeway:
            raise InvalidToken("token expired")
        return hit.payload
    kid, key, payload = _verify(token, audience, issuer, leeway)
    with _verified_lock:
        if len(_verified) >= _VERIFIED_LIMIT:
            del _verified[next(iter(_verified))]
        _verified[cache_key] = _Verified(kid, key, payload)
    return payload


def _verify(token: str, audience: str, issuer: str, leeway: int) -> tuple[str, bytes, dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidToken("malformed token") from exc
    if header.get("alg") != ALGORITHM:
        raise InvalidToken("unsupported algorithm")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise InvalidToken("token has no kid")
    key = key_ring().keys.get(kid)
    if key is None:
        raise InvalidToken("unknown kid")
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            leeway=leeway,
            options={"require": ["aud", "exp", "iat", "iss", "sub"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise InvalidToken("token not yet valid") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidToken("wrong audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise InvalidToken("wrong issuer") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"missing claim {exc.claim}") from exc
    except jwt.PyJWTError as exc:
        raise InvalidToken("invalid signature or claims") from exc
    return kid, key, payload


def validate_task_token(token: str) -> TaskClaims:
    settings = get_settings()
    payload = _decode(token, settings.jwt_audience, settings.jwt_leeway)
    scope = payload.get("scope", "execution")
    if scope not in ("workload", "execution"):
        raise InvalidToken(f"scope {scope!r} is not a task scope")
    sub = payload["sub"]
    try:
        ti_id = str(uuid.UUID(str(sub)))
    except ValueError as exc:
        raise InvalidToken("sub is not a task instance id") from exc
    ti = payload.get("ti")
    if (
        not isinstance(ti, list)
        or len(ti) != 4
        or not all(isinstance(part, str) for part in ti[:3])
        or not isinstance(ti[3], int)
    ):
        raise InvalidToken("token does not name its task instance")
    return TaskClaims(
        ti_id=ti_id,
        scope=scope,
        key=TIKey(ti[0], ti[1], ti[2], ti[3]),
        issued_at=int(payload["iat"]),
        expires_at=int(payload["exp"]),
        raw=payload,
    )


def validate_admin_token(token: str) -> AdminClaims:
    payload = _decode(token, ADMIN_AUDIENCE, get_settings().jwt_leeway)
    if payload.get("scope") != "admin":
        raise InvalidToken("not an admin token")
    return AdminClaims(subject=str(payload["sub"]), expires_at=int(payload["exp"]))


def needs_refresh(claims: TaskClaims, now: float | None = None) -> bool:
    """Airflow's rule: refresh once `exp - now <= max(20% of the lifetime, 30 s)`; never workload."""
    if claims.scope != "execution":
        return False
    now = time.time() if now is None else now
    threshold = max(int(0.2 * claims.lifetime), 30)
    return claims.expires_at - now <= threshold
