from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before anything imports boto3: no real AWS, ever.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "SlipstreamTests",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process moto with Slipstream's resources, and every process-wide cache reset. moto is
    patched as the local stack's is (`slipstream.local.moto`)."""
    from moto import mock_aws

    from slipstream.auth.keys import forget_keys
    from slipstream.core import aws as aws_clients
    from slipstream.core.settings import get_settings
    from slipstream.local.moto import prepare_moto
    from slipstream.local.resources import create_resources
    from slipstream.services.run_snapshots import snapshots
    from tests.support import env

    prepare_moto()
    with mock_aws():
        get_settings.cache_clear()
        aws_clients.reset()
        forget_keys()
        snapshots.clear()
        resources = create_resources()
        with env(**resources.environment()):
            yield
        aws_clients.reset()
        forget_keys()
