"""Shared test helpers: AWS resources on moto, and DAG runs with queued task instances."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import boto3

from slipstream.auth.keys import new_key_document
from slipstream.auth.tokens import TIKey, mint_task_token
from slipstream.core.settings import get_settings
from slipstream.services import queueing, runs
from slipstream.store.dag_runs import DagRuns
from slipstream.store.dags import Dags

REGION = "us-east-1"


def create_resources() -> None:
    """The table, bucket and signing-key secret, with the keys and indexes template.yaml declares."""
    settings = get_settings()
    ddb = boto3.client("dynamodb", region_name=REGION)
    ddb.create_table(
        TableName=settings.table_name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=settings.bucket_name)
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=settings.signing_key_secret, SecretString=new_key_document("k1")
    )


def register_dag(
    dag_id: str = "example", tasks: list[dict[str, Any]] | None = None, **dag: Any
) -> dict[str, Any]:
    document = {
        "schema_version": 1,
        "dag_id": dag_id,
        "fileloc": f"{dag_id}.py",
        "bundle_name": "dags-folder",
        "tasks": tasks or [{"task_id": "hello", "upstream": [], "retries": 0}],
        **dag,
    }
    Dags().put(document, version_id="0197c39f-2222-7ccc-8ddd-0123456789ab", is_paused=False)
    return document


LOGICAL_DATE = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def start_run(dag_id: str = "example", run_id: str | None = None, **kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("logical_date", LOGICAL_DATE)
    return runs.trigger(dag_id, run_id=run_id, run_type="manual", **kwargs)


def queue_ti(dag_id: str, run_id: str, task_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Queue one TI the way the scheduler does; returns (TI item as read, ExecuteTask workload)."""
    dag_runs = DagRuns()
    run, tis = dag_runs.with_task_instances(dag_id, run_id)
    assert run is not None
    ti = next(t for t in tis if t["task_id"] == task_id)
    message = queueing.queue(ti, run)
    assert message is not None
    return ti, message


def execution_token(ti: dict[str, Any], ttl: int | None = None) -> str:
    key = TIKey(ti["dag_id"], ti["run_id"], ti["task_id"], int(ti.get("map_index", -1)))
    return mint_task_token(ti["id"], key, "execution", ttl=ttl)


@contextmanager
def env(**values: str) -> Iterator[None]:
    """Temporarily set SLIPSTREAM_* settings (the settings cache is refreshed both ways)."""
    import os

    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def dumps(value: Any) -> str:
    return json.dumps(value)
