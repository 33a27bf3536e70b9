"""Who may call what: bearer-token dependencies for task routes, and token refresh.

Rules (Airflow's, see docs/auth.md): no token -> 401 `Missing auth token`; a token that fails
validation -> 403 `Invalid auth token: <why>`; a workload token is accepted only by `/run`; on
`ti:self` routes the token's `sub` must equal the `{task_instance_id}` path segment.

Refresh differs from Airflow on purpose: a fresh execution token is handed out only by routes that
have just proven the TI is running (`/run` and heartbeat), so a TI in a terminal state never gets
one, and a token that expired within the grace (`SLIPSTREAM_JWT_LEEWAY`) is still refreshed.

Strict isolation (`SLIPSTREAM_STRICT_ISOLATION`, off by default as in Airflow, where any task's
token reaches any XCom, variable or connection): a token writes only its own TI's XComs, reads
XComs of its own DAG only, and uses only the variables and connections its DAG document declares.
Refusals are 403 `access_denied`, Airflow's multi-team wording.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from slipstream.auth.tokens import (
    InvalidToken,
    TaskClaims,
    TaskScope,
    TIKey,
    mint_task_token,
    needs_refresh,
    refresh_task_token,
    validate_task_token,
)
from slipstream.core.logging import logger
from slipstream.core.settings import get_settings
from slipstream.store.dags import DagNotFound, Dags

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


def access_denied(message: str) -> HTTPException:
    return HTTPException(status_code=403, detail={"reason": "access_denied", "message": message})


def require_dag_access(claims: TaskClaims, dag_id: str) -> None:
    """Strict isolation: XComs are read within the caller's own DAG only."""
    if get_settings().strict_isolation and dag_id != claims.key.dag_id:
        raise access_denied(f"A task of DAG '{claims.key.dag_id}' may not read XComs of DAG '{dag_id}'")


def require_own_ti(claims: TaskClaims, key: TIKey) -> None:
    """Strict isolation: XComs are written (set or deleted) by their own TI only."""
    if get_settings().strict_isolation and key != claims.key:
        raise access_denied("A task may only write its own task instance's XComs")


@dataclass(frozen=True)
class Grants:
    """The variables and connections a task may use; `None` means any (strict isolation off)."""

    variables: frozenset[str] | None = None
    connections: frozenset[str] | None = None

    def require_variable(self, key: str) -> None:
        if self.variables is not None and key not in self.variables:
            raise access_denied(f"Variable '{key}' is not declared by the task's DAG")

    def require_connection(self, conn_id: str) -> None:
        if self.connections is not None and conn_id not in self.connections:
            raise access_denied(f"Connection '{conn_id}' is not declared by the task's DAG")

    def visible_variables(self, keys: Iterable[str]) -> list[str]:
        return [k for k in keys if self.variables is None or k in self.variables]


async def dag_grants(claims: Annotated[TaskClaims, Depends(execution_token)]) -> Grants:
    """What the caller's DAG document declares: one `GetItem` per request in strict mode (FastAPI
    caches a dependency per request), none otherwise. A DAG deleted since grants nothing."""
    if not get_settings().strict_isolation:
        return Grants()
    try:
        document = Dags().get_document(claims.key.dag_id)
    except DagNotFound:
        document = {}
    return Grants(
        variables=frozenset(document.get("variables", [])),
        connections=frozenset(document.get("connections", [])),
    )
