"""Assembles the Execution API: one Cadwyn app, every resource router, the error mapping.

Cadwyn routes on the `Airflow-API-Version` header (no header = the latest version). Only
2026-06-30 exists today; older dates get 404, as Airflow answers dates before its oldest version.
"""

from __future__ import annotations

from cadwyn import Version, VersionBundle

from slipstream.execution_api import errors
from slipstream.execution_api.routes import (
    assets,
    connections,
    dag_runs,
    dags,
    health,
    state_store,
    task_instances,
    task_reschedules,
    variables,
    xcoms,
)
from slipstream.execution_api.versioning import SlipstreamCadwyn, VersionPicking

API_VERSION = "2026-06-30"
VERSION_HEADER = "Airflow-API-Version"


def create_app() -> SlipstreamCadwyn:
    app = SlipstreamCadwyn(
        versions=VersionBundle(Version(API_VERSION)),
        api_version_parameter_name=VERSION_HEADER,
        api_version_default_value=API_VERSION,
        versioning_middleware_class=VersionPicking,
        title="Slipstream Execution API",
        description="Airflow's task Execution API, served from AWS Lambda with state in DynamoDB.",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    routers = [
        module.router
        for module in (
            health,
            task_instances,
            task_reschedules,
            connections,
            variables,
            xcoms,
            dag_runs,
            dags,
            state_store,
        )
    ]
    app.generate_and_include_versioned_routers(*routers, assets.router, assets.events_router)
    errors.install(app)
    app.initialize()
    errors.document_not_found(app)
    return app
