"""Which task instances a clear request selects, and clearing them with `services.runs.clear`."""

from __future__ import annotations

from collections.abc import Collection

from slipstream.management_api.errors import invalid
from slipstream.management_api.graph import relatives
from slipstream.services import runs
from slipstream.services.follow_up import schedule_soon
from slipstream.store.codec import Item
from slipstream.store.dag_runs import DagRunNotFound, DagRuns
from slipstream.store.dags import Dags

FAILED_STATES = frozenset({"failed", "upstream_failed"})


def failed_task_ids(dag_id: str, run_id: str) -> set[str]:
    """Airflow's `only_failed`: the tasks with a failed or upstream_failed instance."""
    return {ti["task_id"] for ti in _run_tis(dag_id, run_id) if ti.get("state") in FAILED_STATES}


def with_relatives(dag_id: str, task_ids: Collection[str], *, upstream: bool, downstream: bool) -> set[str]:
    """`task_ids` plus what lies up or down the DAG's edges from them; an unknown id is a 422."""
    graph = {task["task_id"]: task.get("upstream", []) for task in Dags().get_document(dag_id)["tasks"]}
    unknown = sorted(set(task_ids) - graph.keys())
    if unknown:
        invalid(("body", "task_ids"), f"tasks not in Dag '{dag_id}': {unknown}", list(task_ids))
    selected = set(task_ids)
    if upstream:
        selected |= relatives(graph, task_ids, downstream=False)
    if downstream:
        selected |= relatives(graph, task_ids, downstream=True)
    return selected


def clear(dag_id: str, run_id: str, task_ids: set[str] | None, *, dry_run: bool) -> list[Item]:
    """Clear the run's instances of `task_ids` (all when None) and return them as the clear left
    them (no read after the write: a fault there would answer 503 to a clear that happened, and
    the client's retry would clear again); a dry run returns them unchanged. An empty selection
    clears nothing, not the whole run."""
    if task_ids is not None and not task_ids:
        return []
    if dry_run:
        tis = _run_tis(dag_id, run_id)
        return [ti for ti in tis if task_ids is None or ti["task_id"] in task_ids]
    cleared = runs.clear(dag_id, run_id, task_ids=task_ids)
    schedule_soon(dag_id, run_id)
    return sorted(cleared, key=_order)


def _run_tis(dag_id: str, run_id: str) -> list[Item]:
    run, tis = DagRuns().with_task_instances(dag_id, run_id)
    if run is None:
        raise DagRunNotFound(dag_id, run_id)
    return sorted(tis, key=_order)


def _order(ti: Item) -> tuple[str, int]:
    return ti["task_id"], int(ti.get("map_index", -1))
