"""Assembles the management API: a plain FastAPI app (no API versions: clients are operators'
tools, not pinned task runtimes), every router behind the admin-token check, the error mapping.
Mounted at `/api/v2` by `slipstream.api.app`, where Airflow serves its public REST API."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from slipstream.execution_api.errors import document_not_found
from slipstream.management_api import errors
from slipstream.management_api.routes import (
    connections,
    dag_runs,
    dags,
    task_instances,
    task_logs,
    variables,
)
from slipstream.management_api.security import admin_claims


def create_app() -> FastAPI:
    app = FastAPI(
        title="Slipstream management API",
        description="Register DAGs, trigger and manage runs, variables and connections "
        "(Airflow's public REST API v2 shapes). Admin tokens only.",
        docs_url="/docs",
        openapi_url="/openapi.json",
        dependencies=[Depends(admin_claims)],
    )
    for module in (dags, dag_runs, task_instances, task_logs, variables, connections):
        app.include_router(module.router)
    errors.install(app)
    document_not_found(app)
    return app
