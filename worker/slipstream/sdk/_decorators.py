"""TaskFlow: `@task`, `@task.bash`, `@task.branch`, `@task.short_circuit`.

Calling a decorated function inside a DAG does not run it: it adds a task whose callable is the
function and returns an `XComArg` for its result. `XComArg`s among the arguments make the new task
downstream of their producers and are replaced by the pulled values when the task runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

from slipstream.sdk._baseoperator import BaseOperator
from slipstream.sdk._bash import BashOperator
from slipstream.sdk._context import Context
from slipstream.sdk._dag import current_dag
from slipstream.sdk._dependencies import iter_nodes
from slipstream.sdk._python import (
    BranchPythonOperator,
    PythonOperator,
    ShortCircuitOperator,
    call_with_context,
)
from slipstream.sdk._templating import render
from slipstream.sdk._xcom_arg import XComArg


class _PythonDecoratedOperator(PythonOperator):
    custom_operator_name = "@task"

    def __init__(self, *, multiple_outputs: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.multiple_outputs = multiple_outputs

    def execute(self, context: Context) -> Any:
        result = super().execute(context)
        if self.multiple_outputs:
            if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
                raise TypeError(f"{self.task_id}: multiple_outputs needs a dict with str keys: {result!r}")
            for key, value in result.items():
                context["ti"].xcom_push(key, value)
        return result


class _BashDecoratedOperator(BashOperator):
    """The function returns the command; it is rendered like a templated `bash_command`."""

    template_fields: ClassVar[tuple[str, ...]] = ("op_args", "op_kwargs", "env", "cwd")
    custom_operator_name = "@task.bash"

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: tuple[Any, ...] = (),
        op_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_args = list(op_args)
        self.op_kwargs = dict(op_kwargs or {})

    def execute(self, context: Context) -> str | None:
        command = call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)
        if not isinstance(command, str) or not command.strip():
            raise TypeError(f"{self.task_id}: a @task.bash function must return a non-empty command")
        self.bash_command = render(command, context)
        return self.run_command(self.bash_command)


class TaskFunction:
    """A decorated function. Call it in a DAG to add a task; `.override(task_id=..., ...)` changes
    operator arguments for one call; `.function` is the plain function (handy in unit tests)."""

    def __init__(
        self,
        function: Callable[..., Any],
        operator_class: Callable[..., BaseOperator],
        kwargs: dict[str, Any],
    ) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self._operator_class = operator_class
        self._kwargs = kwargs

    def override(self, **kwargs: Any) -> TaskFunction:
        return TaskFunction(self.function, self._operator_class, self._kwargs | kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> XComArg:
        dag = current_dag()
        if dag is None:
            raise RuntimeError(f"{self.function.__name__}() adds a task: call it inside a DAG")
        options = dict(self._kwargs)
        task_id = dag.unique_task_id(options.pop("task_id", None) or self.function.__name__)
        operator = self._operator_class(
            task_id=task_id, python_callable=self.function, op_args=args, op_kwargs=kwargs, **options
        )
        for producer in iter_nodes([args, kwargs]):
            producer.set_downstream(operator)
        return XComArg(operator)


def _decorator(operator_class: Callable[..., BaseOperator]) -> Callable[..., Any]:
    def decorate(function: Callable[..., Any] | None = None, **kwargs: Any) -> Any:
        if function is None:
            return lambda fn: TaskFunction(fn, operator_class, kwargs)
        return TaskFunction(function, operator_class, kwargs)

    return decorate


class _TaskDecorators:
    """`@task` (or `@task(retries=2, multiple_outputs=True, ...)`) and its variants."""

    __call__ = staticmethod(_decorator(_PythonDecoratedOperator))
    bash = staticmethod(_decorator(_BashDecoratedOperator))
    branch = staticmethod(_decorator(BranchPythonOperator))
    short_circuit = staticmethod(_decorator(ShortCircuitOperator))


task = _TaskDecorators()
