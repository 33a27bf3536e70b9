"""SnapStart: what runs before the snapshot and what must run again after each restore.

Before the snapshot (only when Lambda initialises for SnapStart) the AWS clients, the signing
keys' provider, the app's routes and its response models are built: pure CPU work, no connection
is opened, so the snapshot saves it for every restore. After a restore, clients and cached signing
keys are dropped (no connection or secret outlives the snapshot it was captured in) and Python's
`random` is reseeded; tokens' `jti` and TI ids come from `os.urandom`, which is fresh after a
restore anyway.
"""

from __future__ import annotations

import os
import random

from starlette.types import ASGIApp

from slipstream.auth import keys
from slipstream.core import aws
from slipstream.execution_api.datamodels.common import build_response_models
from slipstream.execution_api.routing import build_routes


def _after_restore() -> None:
    aws.reset()
    keys.forget_keys()
    random.seed()


def prepare(app: ASGIApp | None = None) -> None:
    if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") != "snap-start":
        return
    try:
        from snapshot_restore_py import register_after_restore  # the Lambda runtime provides it
    except ImportError:
        return
    aws.dynamodb()
    keys.prepare_provider()
    if app is not None:
        build_routes(app)
        build_response_models()
    register_after_restore(_after_restore)
