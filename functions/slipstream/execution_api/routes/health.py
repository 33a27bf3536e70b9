from __future__ import annotations

from fastapi import APIRouter

from slipstream.execution_api.routing import DeferredRoute

router = APIRouter(tags=["Health"], route_class=DeferredRoute)


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answers without touching AWS, so it also works before any credentials exist."""
    return {"status": "healthy"}
