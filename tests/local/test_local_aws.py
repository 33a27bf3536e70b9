"""`slipstream local aws`: moto's server with the template's resources, nothing else."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import boto3
import pytest

from slipstream.local.moto import free_port

pytestmark = pytest.mark.e2e


def test_serves_the_templates_resources_and_stops_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "slipstream.cli", "local", "aws", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"},
    )
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        endpoint = f"http://127.0.0.1:{port}"
        assert ready.strip() == f"Slipstream's AWS side ready: {endpoint}"
        ddb = boto3.client("dynamodb", endpoint_url=endpoint)
        table = ddb.describe_table(TableName="slipstream")["Table"]
        assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
        queues = boto3.client("sqs", endpoint_url=endpoint).list_queues()["QueueUrls"]
        assert any(url.endswith("/slipstream-default") for url in queues)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
