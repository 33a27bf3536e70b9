from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: answers without touching AWS, so it also works before any credentials exist."""
    return {"status": "healthy"}
