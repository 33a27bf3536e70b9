"""XComs: values pushed by tasks, kept in their run's partition, large ones in S3.

Item: `(RUN#<dag>#<run>, XCOM#<task>#<key>#<map_index>)` with the value as JSON text. A value
whose encoding exceeds `SLIPSTREAM_XCOM_OFFLOAD_BYTES` is written to S3 first and the item keeps
only its object key, so DynamoDB's 400 KB item limit never reaches a task. Replacing or deleting
an XCom removes the object it no longer needs.
"""

from __future__ import annotations

import hashlib

from slipstream.core import aws
from slipstream.core.settings import get_settings
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.errors import StoreError
from slipstream.store.table import (
    Table,
    TransactionCancelled,
    check_action,
    put_action,
    translated,
)


def _object_key(dag_id: str, run_id: str, task_id: str, key: str, map_index: int) -> str:
    digest = hashlib.sha256(f"{dag_id}\0{run_id}\0{task_id}\0{key}\0{map_index}".encode()).hexdigest()
    return f"xcom/{dag_id}/{digest}.json"


class DagRunMissing(StoreError):
    """An XCom was pushed for a run that does not exist (HTTP 404 with a string detail)."""

    def __init__(self, dag_id: str, run_id: str) -> None:
        super().__init__(f"DAG run not found on DAG '{dag_id}' with ID '{run_id}'")
        self.message = str(self)


class XComs:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def set(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        key: str,
        map_index: int,
        encoded: str,
    ) -> None:
        """Upsert one XCom into an existing run."""
        settings = get_settings()
        item: Item = {
            "PK": keys.run_pk(dag_id, run_id),
            "SK": keys.xcom_sk(task_id, key, map_index),
            "dag_id": dag_id,
            "run_id": run_id,
            "task_id": task_id,
            "key": key,
            "map_index": map_index,
            "timestamp": fmt_time(utcnow()),
        }
        if len(encoded.encode()) > settings.xcom_offload_bytes:
            object_key = _object_key(dag_id, run_id, task_id, key, map_index)
            with translated():
                aws.s3().put_object(
                    Bucket=settings.bucket_name,
                    Key=object_key,
                    Body=encoded.encode(),
                    ContentType="application/json",
                )
            item["s3_key"] = object_key
        else:
            item["value"] = encoded
        # A small value replacing an offloaded one must remove the object: the write's condition
        # tells us (without a read) whether the old item had one.
        if self._write(item, replace_offloaded="s3_key" in item):
            return
        with translated():
            aws.s3().delete_object(
                Bucket=settings.bucket_name, Key=_object_key(dag_id, run_id, task_id, key, map_index)
            )
        self._write(item, replace_offloaded=True)

    def _write(self, item: Item, *, replace_offloaded: bool) -> bool:
        """Put the item; False if it would replace an offloaded value and that was not allowed.

        The run must exist (a 404 otherwise, as Airflow answers), so one transaction checks the run
        item too: even the caller's own run, which may have been deleted while its task ran (a
        plain put would leave an XCom no run owns, found again by a run created later under the
        same id).
        """
        condition = None if replace_offloaded else "attribute_not_exists(s3_key)"
        run_exists = check_action(item["PK"], keys.RUN_SK, "attribute_exists(PK)")
        try:
            self.table.transact([run_exists, put_action(item, condition)])
        except TransactionCancelled as refused:
            if refused.failed[0]:
                raise DagRunMissing(item["dag_id"], item["run_id"]) from None
            return False
        return True

    def delete(self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int) -> None:
        old = self.table.delete(
            keys.run_pk(dag_id, run_id), keys.xcom_sk(task_id, key, map_index), returns="ALL_OLD"
        )
        if old and old.get("s3_key"):
            with translated():
                aws.s3().delete_object(Bucket=get_settings().bucket_name, Key=old["s3_key"])

    def get(self, dag_id: str, run_id: str, task_id: str, key: str, map_index: int) -> Item | None:
        return self.table.get(keys.run_pk(dag_id, run_id), keys.xcom_sk(task_id, key, map_index))

    def all_indexes(self, dag_id: str, run_id: str, task_id: str, key: str) -> list[Item]:
        """Every map index of one key, ordered by map index."""
        return self.table.query(keys.run_pk(dag_id, run_id), prefix=keys.xcom_key_prefix(task_id, key))

    def count(self, dag_id: str, run_id: str, task_id: str, key: str) -> int:
        items = self.table.query(
            keys.run_pk(dag_id, run_id), prefix=keys.xcom_key_prefix(task_id, key), projection="SK"
        )
        return len(items)

    @staticmethod
    def encoded_value(item: Item) -> str:
        """The stored JSON text of an XCom (fetched from S3 when it was offloaded)."""
        if "s3_key" in item:
            with translated():
                body = aws.s3().get_object(Bucket=get_settings().bucket_name, Key=item["s3_key"])["Body"]
                return str(body.read().decode())
        return str(item["value"])
