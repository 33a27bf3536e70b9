"""Who may call what: bearer-token dependencies for task routes, and token refresh.

Rules (Airflow's, see docs/auth.md): no token -> 401 `Missing auth token`; a token that fails
validation -> 403 `Invalid auth token: <why>`; a workload token is accepted only by `/run`; on
`ti:self` routes the token's `sub` must equal the `{task_instance_id}` path segment.

Refresh differs from Airflow on purpose: a fresh execution token is handed out only by routes that
have just proven the TI is running (`/run` and heartbeat), so a TI in a terminal state never gets
one, and a token that expired within the grace (`SLIPSTREAM_JWT_LEEWAY`) is still refreshed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from fastapi import HTTPException, Request, Response

from slipstream.auth.tokens import (
    InvalidToken,
    TaskClaims,
    TaskScope,
    mint_task_token,
    needs_refresh,
    refresh_task_token,
    validate_task_token,
)
from slipstream.core.logging import logger

REFRESHED_TOKEN_HEADER = "Refreshed-API-Token"  # noqa: S105 - a header name


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=401, detail="Missing auth token")
    return token.strip()


def task_claims(
    scopes: Collection[TaskScope] = frozenset({"execution"}), *, ti_self: bool = False
) -> Callable[[Request], Awaitable[TaskClaims]]:
    """Dependency factory: validate the caller's task token for this route's policy."""
    allowed = ", ".join(sorted(scopes))

    async def dependency(request: Request) -> TaskClaims:
        try:
            claims = validate_task_token(bearer_token(request))
        except InvalidToken as exc:
            raise HTTPException(status_code=403, detail=f"Invalid auth token: {exc}") from None
        if claims.scope not in scopes:
            raise HTTPException(
                status_code=403,
                detail=f"Token type '{claims.scope}' not allowed for this endpoint. Allowed types: {allowed}",
            )
        if ti_self and request.path_params.get("task_instance_id") != claims.ti_id:
            raise HTTPException(status_code=403, detail="Token subject does not match task instance ID")
        logger.set_correlation_id(claims.ti_id)
        return claims

    return dependency


execution_token = task_claims()
execution_token_for_ti = task_claims(ti_self=True)
run_token_for_ti = task_claims(frozenset({"execution", "workload"}), ti_self=True)


def hand_out_token(response: Response, claims: TaskClaims) -> None:
    """Called once the TI is known to be running: swap a workload token for an execution token,
    or refresh an execution token near (or just past) its expiry."""
    if claims.scope == "workload":
        response.headers[REFRESHED_TOKEN_HEADER] = mint_task_token(claims.ti_id, claims.key, "execution")
    elif needs_refresh(claims):
        response.headers[REFRESHED_TOKEN_HEADER] = refresh_task_token(claims)
