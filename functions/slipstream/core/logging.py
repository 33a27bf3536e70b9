"""The Powertools Logger every function shares (service name from POWERTOOLS_SERVICE_NAME).

Nothing logs a token, a connection password or an XCom/variable value: log calls carry ids only.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger

logger = Logger(service="slipstream", use_rfc3339=True)
