"""`/connections`: create, list, read, update and delete connections.

Reads see what tasks see: a connection in Secrets Manager (`airflow/connections/<id>`) comes
before the table's. Writes go to the table, so a connection defined in Secrets Manager is
changed there, not here.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from slipstream.management_api.datamodels.common import DEFAULT_LIMIT, Limit, Offset, page
from slipstream.management_api.datamodels.connections import (
    ConnectionBody,
    ConnectionCollectionResponse,
    ConnectionPatchBody,
    ConnectionResponse,
)
from slipstream.management_api.errors import require_same
from slipstream.store.connections import ConnectionNotFound, Connections

router = APIRouter(prefix="/connections", tags=["Connection"])


@router.get("", response_model=ConnectionCollectionResponse)
async def get_connections(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> ConnectionCollectionResponse:
    """The table's connections, sorted by id (Secrets Manager is not listed)."""
    items = Connections().list()
    return ConnectionCollectionResponse(
        connections=[ConnectionResponse.of(i) for i in page(items, limit, offset)], total_entries=len(items)
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ConnectionResponse, responses={409: {}})
async def post_connection(body: ConnectionBody) -> ConnectionResponse:
    return _put(Connections(), body.connection_id, body.changes(), create=True)


@router.get("/{connection_id}", response_model=ConnectionResponse, responses={404: {}})
async def get_connection(connection_id: str) -> ConnectionResponse:
    return ConnectionResponse.of(Connections().get(connection_id))


@router.patch("/{connection_id}", response_model=ConnectionResponse, responses={400: {}, 404: {}})
async def patch_connection(connection_id: str, body: ConnectionPatchBody) -> ConnectionResponse:
    """Change the fields sent (all of them with a `uri`); the others are kept."""
    require_same("connection_id", body.connection_id, connection_id)
    connections = Connections()
    current = connections.get(connection_id)
    return _put(connections, connection_id, {**current, **body.changes()})


@router.delete("/{connection_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}})
async def delete_connection(connection_id: str) -> Response:
    if not Connections().delete(connection_id):
        raise ConnectionNotFound(connection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _put(
    connections: Connections, connection_id: str, fields: dict[str, Any], *, create: bool = False
) -> ConnectionResponse:
    """Write, and answer with what was written (connection reads are eventually consistent)."""
    connections.put(connection_id, fields, create=create)
    return ConnectionResponse.of({**fields, "conn_id": connection_id})
