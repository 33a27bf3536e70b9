"""Who may call the management API: holders of an admin token, and nobody else.

Admin tokens carry their own audience (`urn:slipstream:admin`), so a task token is refused here
(403) exactly as an admin token is refused by the Execution API. Minting one needs the signing key
from Secrets Manager, so IAM on that secret decides who is an administrator (docs/management-api.md).
Every accepted write is logged with the token's subject: method and path only, never a body.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from slipstream.auth.tokens import AdminClaims, InvalidToken, validate_admin_token
from slipstream.core.logging import logger
from slipstream.execution_api.security import bearer_token

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def admin_claims(request: Request) -> AdminClaims:
    try:
        claims = validate_admin_token(bearer_token(request))
    except InvalidToken as exc:
        raise HTTPException(status_code=403, detail=f"Invalid auth token: {exc}") from None
    if request.method not in READ_METHODS:
        logger.info(
            "management write",
            extra={"admin": claims.subject, "method": request.method, "path": request.url.path},
        )
    return claims
