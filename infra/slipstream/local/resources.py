"""Slipstream's AWS resources on a local endpoint (moto in-process or moto's server), from template.yaml.

The table, queues, bucket and signing-key secret take their definitions from the template's own
resources, so the local stack cannot drift from what is deployed. Names come from the settings
(the table, the bucket and the secret) or from the queue's logical id (`DefaultQueue` becomes
`slipstream-default`, as `infra/sam-local.env.json` expects). Queue URLs are recorded as the
template builds `SLIPSTREAM_QUEUE_URLS`: its `Fn::Sub` is evaluated with the local URLs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3

from slipstream.auth.keys import new_key_document
from slipstream.core.settings import get_settings
from slipstream.local.template import load_template, resolve, resources_of_type

STACK_NAME = "slipstream"
TABLE_PROPERTIES = (
    "KeySchema",
    "AttributeDefinitions",
    "GlobalSecondaryIndexes",
    "StreamSpecification",
    "BillingMode",
)


@dataclass(frozen=True)
class LocalResources:
    table_name: str
    stream_arn: str
    bucket_name: str
    signing_key_secret: str
    queues: dict[str, str]
    """Logical id -> queue URL."""
    queue_urls: dict[str, str]
    """Queue name -> URL, as the functions read it from SLIPSTREAM_QUEUE_URLS."""

    def environment(self) -> dict[str, str]:
        """The SLIPSTREAM_* variables pointing the functions and workers at these resources."""
        return {
            "SLIPSTREAM_TABLE_NAME": self.table_name,
            "SLIPSTREAM_BUCKET_NAME": self.bucket_name,
            "SLIPSTREAM_SIGNING_KEY_SECRET": self.signing_key_secret,
            "SLIPSTREAM_QUEUE_URLS": json.dumps(self.queue_urls),
        }


def create_resources(region: str = "us-east-1", template: Mapping[str, Any] | None = None) -> LocalResources:
    """Create every resource the functions use on the current AWS endpoint."""
    template = template or load_template()
    settings = get_settings()
    stream_arn = _create_table(template, settings.table_name, region)
    boto3.client("s3", region_name=region).create_bucket(Bucket=settings.bucket_name)
    boto3.client("secretsmanager", region_name=region).create_secret(
        Name=settings.signing_key_secret, SecretString=new_key_document("k1")
    )
    queues = _create_queues(template, region)
    return LocalResources(
        table_name=settings.table_name,
        stream_arn=stream_arn,
        bucket_name=settings.bucket_name,
        signing_key_secret=settings.signing_key_secret,
        queues=queues,
        queue_urls=_queue_urls(template, queues),
    )


def _create_table(template: Mapping[str, Any], name: str, region: str) -> str:
    [properties] = resources_of_type(template, "AWS::DynamoDB::Table").values()
    table = {key: properties[key] for key in TABLE_PROPERTIES if key in properties}
    if "StreamSpecification" in table:
        table["StreamSpecification"] = {"StreamEnabled": True, **table["StreamSpecification"]}
    ddb = boto3.client("dynamodb", region_name=region)
    created = ddb.create_table(TableName=name, **table)
    return str(created["TableDescription"].get("LatestStreamArn", ""))


def _create_queues(template: Mapping[str, Any], region: str) -> dict[str, str]:
    """Create the queues, each after the queues it names (a dead-letter queue before its source)."""
    definitions = resources_of_type(template, "AWS::SQS::Queue")
    sqs = boto3.client("sqs", region_name=region)
    urls: dict[str, str] = {}

    def lookup(name: str) -> str:
        logical_id, _, attribute = name.partition(".")
        if logical_id not in urls:
            create(logical_id)
        url = urls[logical_id]
        if attribute == "Arn":
            return str(
                sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            )
        return url

    def create(logical_id: str) -> None:
        properties = resolve(definitions[logical_id], template, lookup)
        name = properties.pop("QueueName", None) or _queue_name(logical_id)
        attributes = {key: _attribute(value) for key, value in properties.items()}
        urls[logical_id] = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]

    for logical_id in definitions:
        if logical_id not in urls:
            create(logical_id)
    return urls


def _queue_name(logical_id: str) -> str:
    words = re.findall(r"[A-Z][a-z0-9]*", logical_id.removesuffix("Queue"))
    return "-".join([STACK_NAME, *(word.lower() for word in words)])


def _attribute(value: Any) -> str:
    """SQS attributes are strings; CloudFormation's booleans and policies are not."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _queue_urls(template: Mapping[str, Any], queues: Mapping[str, str]) -> dict[str, str]:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    document = resolve(variables["SLIPSTREAM_QUEUE_URLS"], template, lambda name: queues[name])
    urls: dict[str, str] = json.loads(document)
    return urls
