"""DAG files -> DAG documents, checked against docs/dag-document.schema.json."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from slipstream.sdk import DAG, Asset
from slipstream.sdk.serialize import serialize_dag, serialize_file
from tests.worker.conftest import EXAMPLE_DAGS

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "dag-document.schema.json").read_text())


@pytest.mark.parametrize("dag_file", sorted(p.name for p in EXAMPLE_DAGS.glob("*.py")))
def test_example_dags_match_the_schema(dag_file: str) -> None:
    documents = serialize_file(EXAMPLE_DAGS / dag_file, EXAMPLE_DAGS)
    assert documents
    for document in documents:
        jsonschema.validate(document, SCHEMA)
        assert document["fileloc"] == dag_file


def test_taskflow_document() -> None:
    [document] = serialize_file(EXAMPLE_DAGS / "taskflow.py", EXAMPLE_DAGS.parent, bundle_name="team-a")
    assert document["fileloc"] == "dags/taskflow.py"
    assert document["bundle_name"] == "team-a"
    assert document["schedule"] == {"cron": "0 0 * * *"}
    assert document["start_date"] == "2026-01-01T00:00:00+00:00"
    assert document["params"] == {"factor": 2}
    tasks = {t["task_id"]: t for t in document["tasks"]}
    assert tasks["load"] == {
        "task_id": "load",
        "upstream": ["split"],
        "trigger_rule": "all_success",
        "retries": 0,
        "retry_delay": 30.0,
        "retry_exponential_backoff": False,
        "max_retry_delay": None,
        "execution_timeout": None,
        "queue": "default",
        "operator": "@task",
        "outlets": [{"name": "orders", "uri": "s3://lake/orders"}],
    }


def test_branching_document() -> None:
    [document] = serialize_file(EXAMPLE_DAGS / "branching.py", EXAMPLE_DAGS)
    assert document["schedule"] == {"interval_seconds": 21600}
    assert document["fail_fast"] is True
    tasks = {t["task_id"]: t for t in document["tasks"]}
    assert tasks["join"]["upstream"] == ["left", "right"]
    assert tasks["join"]["trigger_rule"] == "none_failed_min_one_success"
    assert tasks["choose"]["operator"] == "BranchPythonOperator"
    assert tasks["count"]["operator"] == "@task.bash"
    assert tasks["count"]["execution_timeout"] == 300.0


def test_dagrun_timeout_only_when_set() -> None:
    with DAG("bounded", dagrun_timeout=timedelta(minutes=90)) as bounded:
        pass
    with DAG("unbounded") as unbounded:
        pass
    document = serialize_dag(bounded, "f.py", "b")
    jsonschema.validate(document, SCHEMA)
    assert document["dagrun_timeout"] == 5400.0
    assert "dagrun_timeout" not in serialize_dag(unbounded, "f.py", "b")


def test_asset_schedule_and_bad_schedules() -> None:
    with DAG("on_assets", schedule=[Asset("orders"), Asset(uri="s3://x")]) as dag:
        pass
    assert serialize_dag(dag, "f.py", "b")["schedule"] == {"assets": ["orders", "s3://x"]}
    with DAG("bad", schedule="every tuesday") as bad:
        pass
    with pytest.raises(ValueError, match="not a cron expression"):
        serialize_dag(bad, "f.py", "b")


def test_cli_prints_the_documents_of_a_folder() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "slipstream.cli", "dags", "serialize", str(EXAMPLE_DAGS)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert sorted(d["dag_id"] for d in json.loads(out)) == [
        "branching",
        "misbehave",
        "taskflow",
        "templating",
    ]
