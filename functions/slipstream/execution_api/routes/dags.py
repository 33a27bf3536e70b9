"""`/dags/{dag_id}`: what a task may know about a registered DAG."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends

from slipstream.execution_api.datamodels.common import ResponseModel
from slipstream.execution_api.routing import DeferredRoute
from slipstream.execution_api.security import execution_token
from slipstream.store.dags import Dags

router = APIRouter(
    prefix="/dags", tags=["Dags"], dependencies=[Depends(execution_token)], route_class=DeferredRoute
)


class DagResponse(ResponseModel):
    dag_id: str
    is_paused: bool
    bundle_name: str | None
    bundle_version: str | None
    relative_fileloc: str | None
    owners: str | None
    tags: list[str]
    next_dagrun: str | None


@router.get("/{dag_id}", response_model=DagResponse, responses={404: {}})
async def get_dag(dag_id: str) -> dict[str, Any]:
    item = Dags().get(dag_id)
    document = json.loads(item["document"])
    return {
        "dag_id": dag_id,
        "is_paused": bool(item.get("is_paused", False)),
        "bundle_name": document.get("bundle_name"),
        "bundle_version": None,
        "relative_fileloc": document.get("fileloc"),
        "owners": document.get("owner"),
        "tags": sorted(document.get("tags", [])),
        "next_dagrun": item.get("next_dagrun"),
    }
