"""`DAG`, the `@dag` decorator, and the bookkeeping that finds the DAGs a file defines."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ParamSpec, overload

if TYPE_CHECKING:
    from slipstream.sdk._asset import Asset
    from slipstream.sdk._baseoperator import BaseOperator

    Schedule = str | timedelta | Sequence[Asset] | None

P = ParamSpec("P")
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")

_active: list[DAG] = []
_collected: list[DAG] | None = None


def current_dag() -> DAG | None:
    """The innermost DAG whose `with` block (or `@dag` function) is running."""
    return _active[-1] if _active else None


@contextmanager
def collecting() -> Iterator[list[DAG]]:
    """Collect every DAG created inside the block, assigned to a global or not (as Airflow's
    auto-registration does)."""
    global _collected
    outer, _collected = _collected, []
    try:
        yield _collected
    finally:
        _collected = outer


class DAG:
    """A set of tasks and the dependencies between them, plus how the scheduler runs it.

    Use as a context manager; operators created inside the block belong to it::

        with DAG("etl", schedule="@daily", start_date=datetime(2026, 1, 1, tzinfo=UTC)):
            extract() >> load()
    """

    def __init__(
        self,
        dag_id: str,
        *,
        schedule: Schedule = None,
        start_date: datetime | None = None,
        catchup: bool = False,
        tags: Sequence[str] = (),
        params: dict[str, Any] | None = None,
        fail_fast: bool = False,
        dagrun_timeout: timedelta | None = None,
        max_active_runs: int = 16,
        max_active_tasks: int = 16,
        default_args: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> None:
        if not _ID.match(dag_id):
            raise ValueError(f"dag_id {dag_id!r} may only hold letters, digits, '_', '.' and '-'")
        self.dag_id = dag_id
        self.schedule = schedule
        if start_date is not None and start_date.tzinfo is None:
            start_date = start_date.replace(tzinfo=UTC)
        self.start_date = start_date
        self.catchup = catchup
        self.tags = list(tags)
        self.params = dict(params or {})
        self.fail_fast = fail_fast
        self.dagrun_timeout = dagrun_timeout
        self.max_active_runs = max_active_runs
        self.max_active_tasks = max_active_tasks
        self.default_args = dict(default_args or {})
        self.description = description
        self.task_dict: dict[str, BaseOperator] = {}
        if _collected is not None:
            _collected.append(self)

    def __enter__(self) -> DAG:
        _active.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _active.pop()

    @property
    def tasks(self) -> list[BaseOperator]:
        return list(self.task_dict.values())

    def add_task(self, task: BaseOperator) -> None:
        if not _ID.match(task.task_id):
            raise ValueError(f"task_id {task.task_id!r} may only hold letters, digits, '_', '.' and '-'")
        if task.task_id in self.task_dict:
            raise ValueError(f"DAG {self.dag_id!r} already has a task {task.task_id!r}")
        self.task_dict[task.task_id] = task

    def unique_task_id(self, base: str) -> str:
        """`base`, or `base__1`, `base__2`, ... when a TaskFlow function is called more than once."""
        if base not in self.task_dict:
            return base
        n = 1
        while f"{base}__{n}" in self.task_dict:
            n += 1
        return f"{base}__{n}"

    def descendants(self, task_id: str) -> set[str]:
        """Every task downstream of `task_id`, transitively."""
        seen: set[str] = set()
        todo = list(self.task_dict[task_id].downstream_task_ids)
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.task_dict[current].downstream_task_ids)
        return seen

    def __repr__(self) -> str:
        return f"<DAG {self.dag_id}>"


@overload
def dag(dag_id: Callable[P, Any], /) -> Callable[P, DAG]: ...
@overload
def dag(dag_id: str | None = None, /, **kwargs: Any) -> Callable[[Callable[P, Any]], Callable[P, DAG]]: ...
def dag(dag_id: Any = None, /, **kwargs: Any) -> Any:
    """Turn a function into a DAG factory: calling it creates the DAG (named after the function
    unless `dag_id` is given) with the tasks the function body creates. Usable bare or with the
    `DAG` keyword arguments."""

    def decorate(fn: Callable[P, Any]) -> Callable[P, DAG]:
        @functools.wraps(fn)
        def factory(*args: P.args, **kw: P.kwargs) -> DAG:
            with DAG(name or fn.__name__, **kwargs) as new:
                fn(*args, **kw)
            return new

        return factory

    if callable(dag_id):
        name = None
        return decorate(dag_id)
    name = dag_id
    return decorate
