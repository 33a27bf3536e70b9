"""Airflow's own client (`airflow.sdk.api.client.Client`) on the calls a DAG run does not reach.

Runs under the Airflow venv's Python, never Slipstream's. Input: one JSON object on stdin
(`base_url`, the queued `producer` TI and its token, `output`). Each call's result goes to
`output` as JSON, under the call's name; the pytest side compares them with what Airflow's server
answers. Airflow's client validates every response with its own (strict) models, so a shape
mismatch fails here.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any


def main() -> None:
    spec = json.load(sys.stdin)
    from airflow.sdk.api.client import Client
    from airflow.sdk.execution_time.comms import ErrorResponse

    def shown(result: Any) -> Any:
        if isinstance(result, ErrorResponse):
            return {"error": result.error.value}
        return json.loads(result.model_dump_json()) if hasattr(result, "model_dump_json") else result

    ti = spec["producer"]
    d, r, t = ti["dag_id"], ti["run_id"], ti["task_id"]
    logical_date = datetime.fromisoformat(spec["logical_date"])
    client = Client(base_url=spec["base_url"], token=ti["token"])
    ti_id = uuid.UUID(ti["ti_id"])
    client.task_instances.start(ti_id, os.getpid(), datetime.now(UTC))
    client.xcoms.set(d, r, t, "return_value", {"rows": [1, 2, 3]})
    calls = {
        "xcom_slice": lambda: client.xcoms.get_sequence_slice(d, r, t, "return_value", 0, None, None),
        "xcom_slice_empty": lambda: client.xcoms.get_sequence_slice(d, r, t, "return_value", 1, None, None),
        "xcom_item": lambda: client.xcoms.get_sequence_item(d, r, t, "return_value", 0),
        "xcom_item_last": lambda: client.xcoms.get_sequence_item(d, r, t, "return_value", -1),
        "xcom_item_missing": lambda: client.xcoms.get_sequence_item(d, r, t, "return_value", 5),
        "xcom_count": lambda: client.xcoms.head(d, r, t, "return_value"),
        "ti_count": lambda: client.task_instances.get_count(d, run_ids=[r]),
        "ti_count_running": lambda: client.task_instances.get_count(d, task_ids=[t], states=["running"]),
        "ti_count_by_date": lambda: client.task_instances.get_count(d, logical_dates=[logical_date]),
        "ti_states": lambda: client.task_instances.get_task_states(d, run_ids=[r]),
        "ti_previous": lambda: client.task_instances.get_previous(d, t, logical_date=logical_date),
        "ti_breadcrumbs": lambda: client.task_instances.get_task_breakcrumbs(d, r),
        "dag_run": lambda: client.dag_runs.get_detail(d, r),
        "dag_run_state": lambda: client.dag_runs.get_state(d, r),
        "dag_run_count": lambda: client.dag_runs.get_count(d),
        "dag_run_count_success": lambda: client.dag_runs.get_count(d, states=["success"]),
        "dag_run_previous": lambda: client.dag_runs.get_previous(d, logical_date + timedelta(days=1)),
        "dag_run_previous_none": lambda: client.dag_runs.get_previous(d, logical_date),
        "dag": lambda: client.dags.get(d),
        "variable_keys": lambda: client.variables.keys(prefix="conformance/"),
        "variable_keys_page": lambda: client.variables.keys(prefix="conformance/", limit=1, offset=1),
        "asset_by_name": lambda: client.assets.get(name="conformance_asset"),
        "asset_by_uri": lambda: client.assets.get(uri="s3://conformance/asset"),
        "asset_missing": lambda: client.assets.get(name="no_such_asset"),
    }
    out: dict[str, Any] = {}
    for name, call in calls.items():
        try:
            out[name] = shown(call())
        except Exception as exc:
            out[name] = {"raised": type(exc).__name__, "message": str(exc)[:500]}
    out["calls"] = len(calls) + 2  # with /run and the XCom push
    with open(spec["output"], "w") as handle:
        json.dump(out, handle, default=str)


if __name__ == "__main__":
    main()
