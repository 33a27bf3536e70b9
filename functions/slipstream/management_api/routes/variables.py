"""`/variables`: create, list, read, update and delete variables (keys may contain `/`)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from slipstream.management_api.datamodels.common import DEFAULT_LIMIT, Limit, Offset, page
from slipstream.management_api.datamodels.variables import (
    VariableBody,
    VariableCollectionResponse,
    VariablePatchBody,
    VariableResponse,
    stored_value,
)
from slipstream.management_api.errors import require_same
from slipstream.store.variables import VariableNotFound, Variables

router = APIRouter(prefix="/variables", tags=["Variable"])


@router.get("", response_model=VariableCollectionResponse)
async def get_variables(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> VariableCollectionResponse:
    """Sorted by key."""
    items = Variables().list()
    return VariableCollectionResponse(
        variables=[VariableResponse.of(i) for i in page(items, limit, offset)], total_entries=len(items)
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VariableResponse, responses={409: {}})
async def post_variable(body: VariableBody) -> VariableResponse:
    return _put(Variables(), body.key, stored_value(body.value), body.description, create=True)


@router.get("/{variable_key:path}", response_model=VariableResponse, responses={404: {}})
async def get_variable(variable_key: str) -> VariableResponse:
    return VariableResponse.of(Variables().get(variable_key))


@router.patch("/{variable_key:path}", response_model=VariableResponse, responses={400: {}, 404: {}})
async def patch_variable(variable_key: str, body: VariablePatchBody) -> VariableResponse:
    """Change the value and/or description sent; the others are kept."""
    require_same("key", body.key, variable_key)
    variables = Variables()
    item = variables.get(variable_key)
    sent = body.model_fields_set
    value = stored_value(body.value) if "value" in sent else item.get("value")
    description = body.description if "description" in sent else item.get("description")
    return _put(variables, variable_key, value, description)


@router.delete("/{variable_key:path}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
async def delete_variable(variable_key: str) -> Response:
    if not Variables().delete(variable_key):
        raise VariableNotFound(variable_key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _put(
    variables: Variables, key: str, value: str | None, description: str | None, *, create: bool = False
) -> VariableResponse:
    """Write, and answer with what was written (variable reads are eventually consistent)."""
    variables.put(key, value, description, create=create)
    return VariableResponse.of({"key": key, "value": value, "description": description})
