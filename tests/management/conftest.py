from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from slipstream.auth.tokens import mint_admin_token
from slipstream.local.seed import start_run
from slipstream.store import keys
from slipstream.store.table import Table
from slipstream.store.table import values as _values


def document(
    dag_id: str = "example", tasks: list[dict[str, Any]] | None = None, **fields: Any
) -> dict[str, Any]:
    """A minimal DAG document: the API fills in every other field's default."""
    return {
        "dag_id": dag_id,
        "fileloc": f"{dag_id}.py",
        "tasks": tasks if tasks is not None else [{"task_id": "hello"}],
        **fields,
    }


# extract -> transform -> load, and report (alone): clearing `transform` downstream is {transform, load}.
PIPELINE = [
    {"task_id": "extract"},
    {"task_id": "transform", "upstream": ["extract"], "retries": 2},
    {"task_id": "load", "upstream": ["transform"]},
    {"task_id": "report"},
]


@pytest.fixture
def client(aws: None) -> Iterator[TestClient]:
    from slipstream.api.app import create_app

    headers = {"Authorization": f"Bearer {mint_admin_token('ops@example.com')}"}
    with TestClient(create_app(), base_url="http://testserver/api/v2/", headers=headers) as test_client:
        yield test_client


@pytest.fixture
def pipeline(client: TestClient) -> dict[str, Any]:
    """The registered `pipeline` DAG and one run of it, created without scheduling (all TIs null)."""
    response = client.post("dags", json=document("pipeline", PIPELINE))
    assert response.status_code == 201, response.text
    return start_run("pipeline", "run-1")


def set_ti(run_id: str, task_id: str, dag_id: str = "pipeline", **fields: Any) -> None:
    """Put a TI where a scheduler and worker would have left it."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    update = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
    Table().update(
        keys.run_pk(dag_id, run_id),
        keys.ti_sk(task_id, -1),
        update,
        names=names,
        values=_values(**{f"f{i}": value for i, value in enumerate(fields.values())}),
    )


def set_run(run_id: str, state: str, dag_id: str = "pipeline") -> None:
    Table().update(
        keys.run_pk(dag_id, run_id),
        keys.RUN_SK,
        "SET #s = :s",
        names={"#s": "state"},
        values=_values(s=state),
    )


def states(client: TestClient, run_id: str, dag_id: str = "pipeline") -> dict[str, str | None]:
    body = client.get(f"dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
    return {ti["task_id"]: ti["state"] for ti in body["task_instances"]}
