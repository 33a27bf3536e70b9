"""The local stack's moto: a cancelled transaction puts back exactly what it changed and drops its
own stream records, without copying the table (moto's own rollback copies every table it touches);
DynamoDB's and its streams' answers serialised directly read as moto's own serialiser writes them."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest
from moto.core.responses import BaseResponse

from slipstream.local import moto
from slipstream.local.moto import moto_server, serialise_plain_results_directly


def _key(sk: str) -> dict[str, Any]:
    return {"PK": {"S": "p"}, "SK": {"S": sk}}


def _create_table(client: Any) -> str:
    """Table `t`, keyed as Slipstream's (PK, SK, one GSI), with a stream of both images; its ARN."""
    description = client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": name, "AttributeType": "S"} for name in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
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
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return str(description["TableDescription"]["LatestStreamArn"])


def test_a_cancelled_transaction_puts_back_what_it_changed_and_its_stream_records() -> None:
    with moto_server():
        client = boto3.client("dynamodb", region_name="us-east-1")
        stream_arn = _create_table(client)
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


def _answers() -> list[Any]:
    """What a client parses from the DynamoDB and Streams calls Slipstream makes (a fresh moto
    server), less what differs from one run to the next (request ids, times, sequence numbers)."""
    with moto_server() as endpoint:
        httpx.post(f"{endpoint}/moto-api/reset").raise_for_status()
        client = boto3.client("dynamodb", region_name="us-east-1")
        stream_arn = _create_table(client)
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        )
        every_type = {
            "s": {"S": "text é"}, "n": {"N": "-1.50"}, "t": {"BOOL": True}, "null": {"NULL": True},
            "l": {"L": [{"S": "x"}, {"N": "2"}, {"M": {"deep": {"L": []}}}]}, "m": {"M": {"k": {"S": "v"}}},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
            "GSI1PK": {"S": "DAG#d"}, "GSI1SK": {"S": "2026"},
        }  # fmt: skip
        for sk in ("a", "b", "c"):
            client.put_item(TableName="t", Item={**_key(sk), **every_type})
        binary = {"PK": {"S": "q"}, "SK": {"S": "bin"}, "b": {"B": b"\x00\xffbytes"}}  # moto's way
        client.put_item(TableName="t", Item=binary)
        answers: list[Any] = [
            client.get_item(TableName="t", Key={"PK": binary["PK"], "SK": binary["SK"]}),
            client.get_item(TableName="t", Key=_key("a"), ConsistentRead=True),
            client.query(
                TableName="t",
                KeyConditionExpression="PK = :p AND SK > :s",
                ExpressionAttributeValues={":p": {"S": "p"}, ":s": {"S": "a"}},
                ConsistentRead=True,
            ),
            client.query(
                TableName="t",
                IndexName="GSI1",
                KeyConditionExpression="GSI1PK = :p",
                ExpressionAttributeValues={":p": {"S": "DAG#d"}},
                Limit=2,
            ),
            client.update_item(
                TableName="t",
                Key=_key("a"),
                UpdateExpression="SET n = :n REMOVE m",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues={":n": {"N": "3"}},
                ReturnValues="ALL_NEW",
            ),
            client.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {**_key("d"), "s": {"S": "new"}}}},
                    {"Delete": {"TableName": "t", "Key": _key("c")}},
                ]
            ),
            client.scan(TableName="t"),
            [
                {name: record[name] for name in ("eventName", "dynamodb")}
                for record in streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
            ],
        ]
    for answer in answers:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata")
    for records in answers[-1]:
        records["dynamodb"].pop("ApproximateCreationDateTime")
        records["dynamodb"].pop("SequenceNumber")
        records["dynamodb"].pop("SizeBytes")  # moto counts the sequence number's digits
    return answers


def test_results_serialised_directly_read_as_moto_serialises_them(monkeypatch: pytest.MonkeyPatch) -> None:
    serialise_plain_results_directly()
    plain: list[bool] = []
    is_plain = moto._plain

    def watched(value: Any) -> bool:
        plain.append(is_plain(value))
        return plain[-1]

    monkeypatch.setattr(moto, "_plain", watched)
    direct = _answers()
    assert plain.count(True) >= 8  # most calls went direct (not the setup's datetimes, not bytes)
    monkeypatch.setattr(BaseResponse, "serialized", BaseResponse.serialized.__wrapped__)
    assert _answers() == direct
