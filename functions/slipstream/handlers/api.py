"""Lambda handler of the API function (Execution API and management API behind the HTTP API).

Import does no I/O: the app is built (no AWS calls), while each route is built and each AWS
client created on first use (all before the snapshot, under SnapStart), then reused across
invocations. Mangum runs with `lifespan="off"`; otherwise it would run startup and shutdown on
every invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from slipstream.api.app import create_app
from slipstream.core.logging import logger
from slipstream.handlers import snapstart

_app = create_app()
snapstart.prepare(_app)
_mangum = Mangum(_app, lifespan="off")  # type: ignore[arg-type]


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return _mangum(event, context)  # type: ignore[arg-type]
