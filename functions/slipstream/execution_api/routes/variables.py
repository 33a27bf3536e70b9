"""`/variables`: get, set, delete and list keys (in strict isolation, only those the DAG declares)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from slipstream.execution_api.datamodels.common import MessageResponse
from slipstream.execution_api.datamodels.variables import (
    VariableKeysResponse,
    VariablePostBody,
    VariableResponse,
)
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import Grants, dag_grants, execution_token
from slipstream.store.variables import Variables

router = APIRouter(
    prefix="/variables",
    tags=["Variables"],
    dependencies=[Depends(execution_token)],
    route_class=DeferredRoute,
)
Key = Annotated[str, Path(min_length=1)]
DagGrants = Annotated[Grants, Depends(dag_grants)]


@router.get("/keys", response_model=VariableKeysResponse)
async def variable_keys(
    grants: DagGrants,
    prefix: str = "",
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> VariableKeysResponse:
    """Sorted keys starting with `prefix` (a literal prefix: no wildcards), one page."""
    found = grants.visible_variables(Variables().keys(prefix))
    return VariableKeysResponse(keys=found[offset : offset + limit], total_entries=len(found))


@router.get("/{variable_key:path}", response_model=VariableResponse, responses={404: {}})
async def get_variable(variable_key: Key, grants: DagGrants) -> VariableResponse:
    grants.require_variable(variable_key)
    item = Variables().get(variable_key)
    return VariableResponse(key=variable_key, value=item.get("value"))


@router.put("/{variable_key:path}", status_code=status.HTTP_201_CREATED, response_model=MessageResponse)
async def put_variable(variable_key: Key, body: VariablePostBody, grants: DagGrants) -> MessageResponse:
    grants.require_variable(variable_key)
    Variables().put(variable_key, body.val, body.description)
    return MessageResponse(message="Variable successfully set")


@router.delete("/{variable_key:path}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_variable(variable_key: Key, grants: DagGrants) -> Response:
    grants.require_variable(variable_key)
    Variables().delete(variable_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
