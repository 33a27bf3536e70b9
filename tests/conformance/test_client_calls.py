"""Airflow's own client class on the Execution API calls a DAG run does not reach.

The expected answers are Airflow 3.3.2's for the same data (spec §4): a producer TI that is
running and has pushed one XCom, its downstream consumer not yet scheduled, one manual run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from slipstream.local.seed import LOGICAL_DATE, queue_ti, register_dag, start_run
from slipstream.store.variables import Variables
from tests.airflow.conftest import airflow_python, live_api  # noqa: F401  (fixture)

pytestmark = pytest.mark.conformance
SCRIPT = Path(__file__).with_name("client_calls.py")
ASSET = {"name": "conformance_asset", "uri": "s3://conformance/asset"}


def test_airflow_client_lookups(live_api: str, tmp_path: Path) -> None:  # noqa: F811
    Variables().put("conformance/a", "1", None)
    Variables().put("conformance/b", "2", None)
    Variables().put("other", "3", None)
    register_dag(
        "lookups",
        tasks=[
            {"task_id": "producer", "upstream": [], "retries": 0, "outlets": [ASSET]},
            {"task_id": "consumer", "upstream": ["producer"], "retries": 0},
        ],
    )
    run = start_run("lookups")
    ti, workload = queue_ti("lookups", run["run_id"], "producer")
    spec = {
        "base_url": live_api,
        "logical_date": LOGICAL_DATE.isoformat(),
        "output": str(tmp_path / "seen.json"),
        "producer": {
            "ti_id": ti["id"],
            "token": workload["token"],
            "dag_id": "lookups",
            "run_id": run["run_id"],
            "task_id": "producer",
        },
    }
    completed = subprocess.run(
        [airflow_python(), str(SCRIPT)],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    seen = json.loads((tmp_path / "seen.json").read_text())
    run_id = run["run_id"]
    value = {"rows": [1, 2, 3]}

    assert seen["xcom_slice"] == [value]
    assert seen["xcom_slice_empty"] == []
    assert seen["xcom_item"] == value
    assert seen["xcom_item_last"] == value
    assert seen["xcom_item_missing"] == {"error": "XCOM_NOT_FOUND"}
    assert seen["xcom_count"]["len"] == 1
    assert seen["ti_count"]["count"] == 2
    assert seen["ti_count_running"]["count"] == 1
    assert seen["ti_count_by_date"]["count"] == 2
    assert seen["ti_states"] == {"task_states": {run_id: {"producer": "running", "consumer": None}}}
    assert seen["ti_previous"]["task_instance"] is None
    assert seen["ti_breadcrumbs"] == {"breadcrumbs": []}
    assert (seen["dag_run"]["dag_id"], seen["dag_run"]["run_id"]) == ("lookups", run_id)
    assert seen["dag_run_state"]["state"] == seen["dag_run"]["state"]
    assert seen["dag_run_count"]["count"] == 1
    assert seen["dag_run_count_success"]["count"] == 0
    assert seen["dag_run_previous"]["dag_run"]["run_id"] == run_id
    assert seen["dag_run_previous_none"]["dag_run"] is None
    assert seen["dag"]["relative_fileloc"] == "lookups.py"
    assert seen["variable_keys"] == {"keys": ["conformance/a", "conformance/b"], "total_entries": 2}
    assert seen["variable_keys_page"] == {"keys": ["conformance/b"], "total_entries": 2}
    # An asset a DAG's task updates exists once the DAG is registered, before any event.
    for lookup in ("asset_by_name", "asset_by_uri"):
        assert (seen[lookup]["name"], seen[lookup]["uri"]) == (ASSET["name"], ASSET["uri"])
    assert seen["asset_missing"] == {"error": "ASSET_NOT_FOUND"}
    assert seen["calls"] == 26
