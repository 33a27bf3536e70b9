"""`BaseOperator`, the per-task settings every operator shares, and `EmptyOperator`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from slipstream.sdk._dag import DAG, current_dag
from slipstream.sdk._dependencies import DependencyMixin
from slipstream.sdk._templating import render

if TYPE_CHECKING:
    from slipstream.sdk._asset import Asset
    from slipstream.sdk._context import Context


class TriggerRule(StrEnum):
    """When a task may run, given the states of its upstream tasks (evaluated by the scheduler)."""

    ALL_SUCCESS = "all_success"
    ALL_FAILED = "all_failed"
    ALL_DONE = "all_done"
    ALL_DONE_MIN_ONE_SUCCESS = "all_done_min_one_success"
    ALL_SKIPPED = "all_skipped"
    ONE_SUCCESS = "one_success"
    ONE_FAILED = "one_failed"
    ONE_DONE = "one_done"
    NONE_FAILED = "none_failed"
    NONE_FAILED_MIN_ONE_SUCCESS = "none_failed_min_one_success"
    NONE_SKIPPED = "none_skipped"
    ALWAYS = "always"


_DEFAULTS: dict[str, Any] = {
    "retries": 0,
    "retry_delay": timedelta(seconds=300),
    "retry_exponential_backoff": False,
    "max_retry_delay": None,
    "trigger_rule": TriggerRule.ALL_SUCCESS,
    "execution_timeout": None,
    "queue": "default",
}


def _duration(value: timedelta | float | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class BaseOperator(DependencyMixin):
    """One task of a DAG. Subclasses implement `execute(context)`; its return value becomes the
    task's `return_value` XCom. Attributes named in `template_fields` are rendered with Jinja
    against the task context just before `execute`.

    Settings left as None come from the DAG's `default_args`, then from Airflow's defaults.
    """

    template_fields: ClassVar[Sequence[str]] = ()
    custom_operator_name: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        task_id: str,
        dag: DAG | None = None,
        retries: int | None = None,
        retry_delay: timedelta | float | None = None,
        retry_exponential_backoff: bool | None = None,
        max_retry_delay: timedelta | float | None = None,
        trigger_rule: TriggerRule | str | None = None,
        execution_timeout: timedelta | float | None = None,
        queue: str | None = None,
        outlets: Sequence[Asset] = (),
    ) -> None:
        owner = dag or current_dag()
        if owner is None:
            raise RuntimeError(f"task {task_id!r} must be created inside a DAG (`with DAG(...)` or `@dag`)")
        given = {
            "retries": retries,
            "retry_delay": retry_delay,
            "retry_exponential_backoff": retry_exponential_backoff,
            "max_retry_delay": max_retry_delay,
            "trigger_rule": trigger_rule,
            "execution_timeout": execution_timeout,
            "queue": queue,
        }
        settings = _DEFAULTS | {k: v for k, v in owner.default_args.items() if k in _DEFAULTS}
        settings |= {k: v for k, v in given.items() if v is not None}
        self.task_id = task_id
        self.dag = owner
        self.retries: int = settings["retries"]
        self.retry_delay: timedelta = _duration(settings["retry_delay"]) or timedelta(0)
        self.retry_exponential_backoff: bool = settings["retry_exponential_backoff"]
        self.max_retry_delay = _duration(settings["max_retry_delay"])
        self.trigger_rule = TriggerRule(settings["trigger_rule"])
        self.execution_timeout = _duration(settings["execution_timeout"])
        self.queue: str = settings["queue"]
        self.outlets = list(outlets)
        self.upstream_task_ids: set[str] = set()
        self.downstream_task_ids: set[str] = set()
        owner.add_task(self)

    @property
    def operators(self) -> list[BaseOperator]:
        return [self]

    @property
    def operator_name(self) -> str:
        return self.custom_operator_name or type(self).__name__

    def render_template_fields(self, context: Context) -> dict[str, Any]:
        """Render every templated field in place; returns them by name."""
        rendered = {}
        for name in self.template_fields:
            rendered[name] = render(getattr(self, name), context)
            setattr(self, name, rendered[name])
        return rendered

    def execute(self, context: Context) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not implement execute()")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.dag.dag_id}.{self.task_id}>"


class EmptyOperator(BaseOperator):
    """Does nothing; useful to join or fan out branches."""

    def execute(self, context: Context) -> None:
        return None
