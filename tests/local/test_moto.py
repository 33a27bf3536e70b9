"""The local stack's moto: a cancelled transaction puts back exactly what it changed and drops its
own stream records, without copying the table (moto's own rollback copies every table it touches)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from slipstream.local.moto import moto_server


def _key(sk: str) -> dict[str, Any]:
    return {"PK": {"S": "p"}, "SK": {"S": sk}}


def test_a_cancelled_transaction_puts_back_what_it_changed_and_its_stream_records() -> None:
    with moto_server():
        client = boto3.client("dynamodb", region_name="us-east-1")
        stream_arn = client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        client.put_item(TableName="t", Item={**_key("a"), "n": {"N": "1"}})
        client.put_item(TableName="t", Item={**_key("kept"), "n": {"N": "7"}})
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST")

        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(
                TransactItems=[
                    {"Update": {"TableName": "t", "Key": _key("a"), "UpdateExpression": "SET n = :two",
                                "ExpressionAttributeValues": {":two": {"N": "2"}}}},
                    {"Put": {"TableName": "t", "Item": {**_key("new"), "n": {"N": "3"}}}},
                    {"ConditionCheck": {"TableName": "t", "Key": _key("kept"),
                                        "ConditionExpression": "attribute_not_exists(PK)"}},
                ]
            )  # fmt: skip

        items = {i["SK"]["S"]: i["n"]["N"] for i in client.scan(TableName="t")["Items"]}
        assert items == {"a": "1", "kept": "7"}
        client.put_item(TableName="t", Item={**_key("after"), "n": {"N": "4"}})
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        # the reader's iterator still works, and sees only what happened after the cancel
        assert [r["dynamodb"]["Keys"]["SK"]["S"] for r in records] == ["after"]
