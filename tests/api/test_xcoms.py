"""XComs: verbatim values, map indexes, slices, counts, and the S3 offload of large values."""

from __future__ import annotations

from urllib.parse import quote

import boto3
import pytest
from starlette.testclient import TestClient

from slipstream.core.settings import get_settings
from tests.api.conftest import QueuedTI
from tests.support import env


@pytest.fixture
def base(queued: QueuedTI) -> str:
    return f"xcoms/example/{queued.item['run_id']}/hello"


def test_set_get_delete_roundtrip(client: TestClient, queued: QueuedTI, base: str) -> None:
    value = {"nested": {"list": [1, 2.5, None, "ü"]}, "__classname__": "x"}
    created = client.post(f"{base}/return_value", json=value, headers=queued.headers)
    assert created.status_code == 201
    assert created.json() == {"message": "XCom successfully set"}
    got = client.get(f"{base}/return_value", headers=queued.headers)
    assert got.json() == {"key": "return_value", "value": value}
    deleted = client.delete(f"{base}/return_value", headers=queued.headers)
    assert deleted.json() == {"message": "XCom with key: return_value successfully deleted."}
    missing = client.get(f"{base}/return_value", headers=queued.headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == {
        "reason": "not_found",
        "message": f"XCom with key='return_value' map_index=-1 not found for task 'hello' in DAG run "
        f"'{queued.item['run_id']}' of 'example'",
    }


def test_empty_body_means_null(client: TestClient, queued: QueuedTI, base: str) -> None:
    assert client.post(f"{base}/k", headers=queued.headers).status_code == 201
    assert client.get(f"{base}/k", headers=queued.headers).json() == {"key": "k", "value": None}


def test_keys_with_slashes_and_unicode(client: TestClient, queued: QueuedTI, base: str) -> None:
    key = "päth/with/slashes#and%hash"
    path = f"{base}/{quote(key, safe='/')}"
    assert client.post(path, json=1, headers=queued.headers).status_code == 201
    assert client.get(path, headers=queued.headers).json() == {"key": key, "value": 1}


def test_mapped_values_item_slice_head(client: TestClient, queued: QueuedTI, base: str) -> None:
    for index in range(5):
        params = {"map_index": index}
        assert (
            client.post(f"{base}/m", json=index * 10, params=params, headers=queued.headers).status_code
            == 201
        )
    values = [0, 10, 20, 30, 40]
    head = client.head(f"{base}/m", headers=queued.headers)
    assert head.status_code == 200 and head.headers["content-range"] == "map_indexes 5"
    assert client.head(f"{base}/m", params={"map_index": 1}, headers=queued.headers).status_code == 400
    for offset in (0, 3, -1, -5):
        item = client.get(f"{base}/m/item/{offset}", headers=queued.headers)
        assert item.json() == values[offset]
    assert client.get(f"{base}/m/item/5", headers=queued.headers).status_code == 404
    for start in (None, 1, -2):
        for stop in (None, 3, -1):
            for step in (None, 2, -1):
                params = {
                    k: v for k, v in {"start": start, "stop": stop, "step": step}.items() if v is not None
                }
                got = client.get(f"{base}/m/slice", params=params, headers=queued.headers).json()
                assert got == values[start:stop:step], params
    by_offset = client.get(f"{base}/m", params={"offset": -1}, headers=queued.headers)
    assert by_offset.json() == {"key": "m", "value": 40}


def test_mapped_length_limit(client: TestClient, queued: QueuedTI, base: str) -> None:
    ok = client.post(f"{base}/ml", json=[1], params={"mapped_length": 20}, headers=queued.headers)
    assert ok.status_code == 201
    refused = client.post(f"{base}/ml", json=[1], params={"mapped_length": 2000}, headers=queued.headers)
    assert refused.status_code == 400
    assert refused.json()["detail"]["reason"] == "unmappable_return_value_length"


def test_unknown_run_is_404_string_detail(client: TestClient, queued: QueuedTI) -> None:
    response = client.post("xcoms/example/no-such-run/hello/k", json=1, headers=queued.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "DAG run not found on DAG 'example' with ID 'no-such-run'"}


def test_a_push_into_the_callers_own_run_deleted_meanwhile_is_404_and_leaves_nothing(
    client: TestClient, queued: QueuedTI, base: str
) -> None:
    """The task's token names the run, yet the run may be deleted while the task runs: Airflow
    answers 404, and an XCom written anyway would be found by a run created later under the id."""
    from slipstream.management_api.deletion import delete_run
    from slipstream.store import keys
    from slipstream.store.table import Table

    run_id = queued.item["run_id"]
    delete_run("example", run_id)
    response = client.post(f"{base}/return_value", json="stale", headers=queued.headers)
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": f"DAG run not found on DAG 'example' with ID '{run_id}'"}
    assert Table().query(keys.run_pk("example", run_id)) == []


def _objects() -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=get_settings().bucket_name).get("Contents", [])]


def test_large_values_go_to_s3_and_are_cleaned_up(client: TestClient, queued: QueuedTI, base: str) -> None:
    big = {"blob": "x" * 600_000}  # beyond DynamoDB's 400 KB item limit
    assert client.post(f"{base}/big", json=big, headers=queued.headers).status_code == 201
    assert len(_objects()) == 1
    assert client.get(f"{base}/big", headers=queued.headers).json() == {"key": "big", "value": big}
    assert client.post(f"{base}/big", json="small now", headers=queued.headers).status_code == 201
    assert _objects() == []
    assert client.get(f"{base}/big", headers=queued.headers).json()["value"] == "small now"
    assert client.post(f"{base}/big", json=big, headers=queued.headers).status_code == 201
    assert client.delete(f"{base}/big", headers=queued.headers).status_code == 200
    assert _objects() == []


def test_offload_threshold_is_configurable(client: TestClient, queued: QueuedTI, base: str) -> None:
    with env(SLIPSTREAM_XCOM_OFFLOAD_BYTES="10"):
        assert (
            client.post(f"{base}/tiny", json="more than ten bytes", headers=queued.headers).status_code == 201
        )
        assert len(_objects()) == 1
        assert client.get(f"{base}/tiny", headers=queued.headers).json()["value"] == "more than ten bytes"


def test_xcoms_refuse_workload_tokens(client: TestClient, queued: QueuedTI, base: str) -> None:
    assert client.get(f"{base}/k", headers=queued.workload_headers).status_code == 403
