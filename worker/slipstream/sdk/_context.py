"""The task context: what `execute(context)`, templates and TaskFlow functions receive."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slipstream.sdk import _runtime
from slipstream.sdk._variable import VariableAccessor

if TYPE_CHECKING:
    from slipstream.sdk._baseoperator import BaseOperator
    from slipstream.worker.models import TaskInstance, TIRunContext

Context = dict[str, Any]

_current: Context | None = None


def get_current_context() -> Context:
    """The context of the task running in this process."""
    if _current is None:
        raise RuntimeError("get_current_context() works only while a task runs")
    return _current


def _jsonable(value: Any) -> Any:
    """XCom values travel as JSON; tuples become lists, anything else non-JSON is an error."""
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"XCom values must be JSON-serialisable: {exc}") from None


class RuntimeTaskInstance:
    """`ti` in the context: the running try and its XCom helpers."""

    def __init__(self, ti: TaskInstance, task: BaseOperator, run_context: TIRunContext) -> None:
        self.id = ti.id
        self.task_id = ti.task_id
        self.dag_id = ti.dag_id
        self.run_id = ti.run_id
        self.try_number = ti.try_number
        self.map_index = ti.map_index
        self.max_tries = run_context.max_tries
        self.task = task

    def xcom_push(self, key: str, value: Any) -> None:
        from slipstream.worker.messages import SetXCom

        _runtime.request(
            SetXCom(
                key=key,
                value=_jsonable(value),
                dag_id=self.dag_id,
                run_id=self.run_id,
                task_id=self.task_id,
                map_index=self.map_index,
            )
        )

    def xcom_pull(
        self,
        task_ids: str | Iterable[str] | None = None,
        key: str = "return_value",
        dag_id: str | None = None,
        run_id: str | None = None,
        map_index: int | None = None,
        include_prior_dates: bool = False,
        default: Any = None,
    ) -> Any:
        """One value for a single task id (this task's if omitted), a list for several."""
        from slipstream.worker.messages import GetXCom

        def pull(task_id: str) -> Any:
            result = _runtime.request(
                GetXCom(
                    key=key,
                    dag_id=dag_id or self.dag_id,
                    run_id=run_id or self.run_id,
                    task_id=task_id,
                    map_index=map_index,
                    include_prior_dates=include_prior_dates,
                )
            )
            return default if result.value is None else result.value

        if task_ids is None or isinstance(task_ids, str):
            return pull(task_ids or self.task_id)
        return [pull(task_id) for task_id in task_ids]

    def skip(self, task_ids: Iterable[str]) -> None:
        """Mark tasks of this run `skipped` unless they already ran (branching, short-circuit)."""
        from slipstream.worker.messages import SkipDownstreamTasks

        tasks = sorted(set(task_ids))
        if tasks:
            _runtime.request(SkipDownstreamTasks(tasks=tasks))

    def __repr__(self) -> str:
        return f"<TaskInstance {self.dag_id}.{self.task_id} {self.run_id} try {self.try_number}>"


def build_context(ti: TaskInstance, task: BaseOperator, run_context: TIRunContext) -> Context:
    dag_run = run_context.dag_run
    conf = dag_run.conf or {}
    when = dag_run.logical_date or dag_run.run_after
    runtime_ti = RuntimeTaskInstance(ti, task, run_context)
    return {
        "ti": runtime_ti,
        "task_instance": runtime_ti,
        "task": task,
        "dag": task.dag,
        "dag_run": dag_run,
        "run_id": ti.run_id,
        "try_number": ti.try_number,
        "map_index": ti.map_index,
        "logical_date": dag_run.logical_date,
        "data_interval_start": dag_run.data_interval_start,
        "data_interval_end": dag_run.data_interval_end,
        "ds": when.strftime("%Y-%m-%d"),
        "ds_nodash": when.strftime("%Y%m%d"),
        "ts": when.isoformat(),
        # Run conf overrides param defaults, as with Airflow's `dag_run_conf_overrides_params`.
        "params": task.dag.params | conf,
        "conf": conf,
        "var": {"value": VariableAccessor(False), "json": VariableAccessor(True)},
    }


def activate(context: Context | None) -> None:
    global _current
    _current = context
