"""Deleting dag runs (their whole partition) and DAGs (their runs, then the document).

A run's items go in transactions of 100, then the run item with its scheduler slot, so a deletion that fails
halfway leaves the run visible and a repeated DELETE finishes it. A worker still running one of
the run's tasks gets 404 at its next heartbeat and stops. As in Airflow, a DAG is not deleted
while any of its task instances is running. Large XComs and logs in S3 are left to the bucket's
lifecycle rules.
"""

from __future__ import annotations

from slipstream.services.follow_up import release_slot_action, start_waiting_runs_soon
from slipstream.store import keys
from slipstream.store.dag_runs import DagRunNotFound, DagRuns
from slipstream.store.dags import Dags
from slipstream.store.errors import Conflict
from slipstream.store.table import TransactionCancelled, delete_action
from slipstream.store.task_instances import TaskInstances

TRANSACTION_LIMIT = 100
ACTIVE_RUN_STATES = frozenset({"queued", "running"})


def delete_run(dag_id: str, run_id: str, *, start_next: bool = True) -> None:
    table = DagRuns().table
    pk = keys.run_pk(dag_id, run_id)
    items = table.query(pk, projection="PK, SK")
    if not any(item["SK"] == keys.RUN_SK for item in items):
        raise DagRunNotFound(dag_id, run_id)
    contents = [delete_action(pk, item["SK"]) for item in items if item["SK"] != keys.RUN_SK]
    batches = [contents[i : i + TRANSACTION_LIMIT] for i in range(0, len(contents), TRANSACTION_LIMIT)]
    batches.append([delete_action(pk, keys.RUN_SK), release_slot_action(dag_id, run_id)])
    try:
        for batch in batches:
            table.transact(batch)
    except TransactionCancelled:
        raise Conflict(f"Dag run '{run_id}' changed while it was being deleted; retry") from None
    if start_next:
        start_waiting_runs_soon(dag_id)


def delete_dag(dag_id: str) -> None:
    dags = Dags()
    dags.get(dag_id, consistent=True)
    runs = DagRuns().list_for_dag(dag_id)
    tis = TaskInstances()
    for run in runs:
        if run.get("state") in ACTIVE_RUN_STATES and any(
            ti.get("state") == "running" for ti in tis.list_run(dag_id, run["run_id"])
        ):
            raise Conflict(f"Task instances of dag with id: '{dag_id}' are still running")
    for run in runs:
        delete_run(dag_id, run["run_id"], start_next=False)
    dags.delete(dag_id)
