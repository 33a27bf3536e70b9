"""`/task-reschedules`: when a rescheduled sensor first started."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from slipstream.auth.tokens import TaskClaims
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import execution_token_for_ti
from slipstream.store import keys
from slipstream.store.table import Table

router = APIRouter(prefix="/task-reschedules", tags=["Task Reschedules"], route_class=DeferredRoute)


@router.get("/{task_instance_id}/start_date", response_model=str | None)
async def get_start_date(
    task_instance_id: str, claims: Annotated[TaskClaims, Depends(execution_token_for_ti)], try_number: int = 1
) -> str | None:
    """The earliest reschedule's start date for this TI id, or null (`try_number` is ignored)."""
    key = claims.key
    rows = Table().query(
        keys.run_pk(key.dag_id, key.run_id), prefix=keys.reschedule_prefix(claims.ti_id), limit=1
    )
    return str(rows[0]["start_date"]) if rows else None
