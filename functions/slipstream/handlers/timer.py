"""Lambda handler of the scheduler's timer function (EventBridge schedule, every minute)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from slipstream.core.logging import logger
from slipstream.scheduler.timer import sweep


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = asdict(sweep())
    logger.info("timer sweep", extra={"report": report})
    return report
