"""The local resources come from template.yaml's own definitions."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from slipstream.local.resources import LocalResources, create_resources
from slipstream.local.template import load_template, resolve, resources_of_type


@pytest.fixture
def created() -> Iterator[LocalResources]:
    with mock_aws():
        yield create_resources()


def test_the_template_reads_cloudformation_tags() -> None:
    template = load_template()
    default_queue = template["Resources"]["DefaultQueue"]["Properties"]
    assert default_queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["DefaultDeadLetterQueue", "Arn"]
    }
    assert resolve(
        {"Fn::Sub": "${AWS::StackName}-x-${StreamParallelizationFactor}"}, template, str.upper
    ) == ("AWS::STACKNAME-x-2")


def test_the_table_is_the_template_table(created: LocalResources) -> None:
    [declared] = resources_of_type(load_template(), "AWS::DynamoDB::Table").values()
    table = boto3.client("dynamodb").describe_table(TableName=created.table_name)["Table"]
    assert table["KeySchema"] == declared["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(declared["AttributeDefinitions"], key=str)
    indexes = {index["IndexName"]: index["KeySchema"] for index in table["GlobalSecondaryIndexes"]}
    assert indexes == {index["IndexName"]: index["KeySchema"] for index in declared["GlobalSecondaryIndexes"]}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"] == created.stream_arn


def test_every_queue_exists_with_its_attributes_and_dead_letter_queue(created: LocalResources) -> None:
    sqs = boto3.client("sqs")
    assert set(created.queues) == set(resources_of_type(load_template(), "AWS::SQS::Queue"))
    default = sqs.get_queue_attributes(QueueUrl=created.queues["DefaultQueue"], AttributeNames=["All"])[
        "Attributes"
    ]
    dead_letter = sqs.get_queue_attributes(
        QueueUrl=created.queues["DefaultDeadLetterQueue"], AttributeNames=["QueueArn"]
    )["Attributes"]
    assert default["VisibilityTimeout"] == "300"
    assert json.loads(default["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letter["QueueArn"],
        "maxReceiveCount": 5,
    }
    assert created.queues["DefaultQueue"].endswith("/slipstream-default")


def test_queue_urls_are_built_as_the_template_builds_them(created: LocalResources) -> None:
    assert created.queue_urls == {"default": created.queues["DefaultQueue"]}
    assert json.loads(created.environment()["SLIPSTREAM_QUEUE_URLS"]) == created.queue_urls


def test_the_signing_key_secret_and_bucket_exist(created: LocalResources) -> None:
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=created.signing_key_secret)
    assert json.loads(secret["SecretString"])["keys"]
    boto3.client("s3").head_bucket(Bucket=created.bucket_name)
