"""`/dags`: register DAG documents, list, read, pause and delete DAGs."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from slipstream.management_api import deletion
from slipstream.management_api.datamodels.common import DEFAULT_LIMIT, Limit, Offset, page
from slipstream.management_api.datamodels.dags import (
    DAGCollectionResponse,
    DAGPatchBody,
    DAGPostBody,
    DAGResponse,
)
from slipstream.services.follow_up import start_waiting_runs_soon
from slipstream.store.dags import Dags

router = APIRouter(prefix="/dags", tags=["DAG"])

VERSION_NAMESPACE = uuid.UUID("5b1f0c8e-2d4a-4c1e-9a57-3f7d2b8e6a10")


def version_id(document: dict[str, Any]) -> str:
    """A UUID derived from the document's content: registering the same document again keeps
    its version (as Airflow only adds a DagVersion when the serialized DAG changes)."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return str(uuid.uuid5(VERSION_NAMESPACE, canonical))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DAGResponse)
async def register_dag(body: DAGPostBody) -> DAGResponse:
    """Register or replace a DAG document; a DAG already registered keeps its pause state."""
    document = body.document()
    item = Dags().put(document, version_id=version_id(document), is_paused=body.is_paused)
    return DAGResponse.of(item)


@router.get("", response_model=DAGCollectionResponse)
async def get_dags(
    limit: Limit = DEFAULT_LIMIT, offset: Offset = 0, paused: bool | None = None
) -> DAGCollectionResponse:
    items = [i for i in Dags().list() if paused is None or bool(i.get("is_paused")) == paused]
    return DAGCollectionResponse(
        dags=[DAGResponse.of(i) for i in page(items, limit, offset)], total_entries=len(items)
    )


@router.get("/{dag_id}", response_model=DAGResponse, responses={404: {}})
async def get_dag(dag_id: str) -> DAGResponse:
    return DAGResponse.of(Dags().get(dag_id, consistent=True))


@router.patch("/{dag_id}", response_model=DAGResponse, responses={404: {}})
async def patch_dag(dag_id: str, body: DAGPatchBody) -> DAGResponse:
    item = Dags().set_paused(dag_id, body.is_paused)
    if not body.is_paused:
        start_waiting_runs_soon(dag_id)
    return DAGResponse.of(item)


@router.delete("/{dag_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {}, 409: {}})
async def delete_dag(dag_id: str) -> Response:
    """Delete the DAG and all its runs; refused (409) while any of its tasks is running."""
    deletion.delete_dag(dag_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
