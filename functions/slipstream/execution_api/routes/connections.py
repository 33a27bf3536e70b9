"""`/connections`: read a connection (Secrets Manager first, then DynamoDB); in strict isolation,
only a connection the DAG declares."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse

from slipstream.execution_api.datamodels.connections import ConnectionResponse
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import Grants, dag_grants, execution_token
from slipstream.store.connections import Connections

router = APIRouter(
    prefix="/connections",
    tags=["Connections"],
    dependencies=[Depends(execution_token)],
    route_class=DeferredRoute,
)


@router.get("/{connection_id}", response_model=ConnectionResponse, responses={404: {}})
async def get_connection(
    connection_id: Annotated[str, Path(min_length=1)], grants: Annotated[Grants, Depends(dag_grants)]
) -> Any:
    """The connection with `extra` as a JSON string and the key `schema` (not `schema_`)."""
    grants.require_connection(connection_id)
    return JSONResponse(Connections().get(connection_id))
