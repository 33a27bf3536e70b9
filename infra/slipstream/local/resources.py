"""Creating Slipstream's AWS resources on an AWS endpoint (moto in-process or moto's server)."""

from __future__ import annotations

import boto3

from slipstream.auth.keys import new_key_document
from slipstream.core.settings import get_settings


def create_resources(region: str = "us-east-1") -> None:
    """The table, bucket and signing-key secret, with the keys and indexes template.yaml declares."""
    settings = get_settings()
    ddb = boto3.client("dynamodb", region_name=region)
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
    boto3.client("s3", region_name=region).create_bucket(Bucket=settings.bucket_name)
    boto3.client("secretsmanager", region_name=region).create_secret(
        Name=settings.signing_key_secret, SecretString=new_key_document("k1")
    )
