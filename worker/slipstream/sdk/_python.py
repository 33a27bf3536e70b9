"""Operators that call a Python function: `PythonOperator`, `BranchPythonOperator`,
`ShortCircuitOperator`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from slipstream.sdk._baseoperator import BaseOperator

if TYPE_CHECKING:
    from slipstream.sdk._context import Context


def call_with_context(
    fn: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], context: Context
) -> Any:
    """`fn(*args, **kwargs)` plus the context entries `fn` names as parameters (all of them if it
    takes `**kwargs`), as Airflow's PythonOperator does."""
    params = inspect.signature(fn).parameters
    # Positional arguments bind the first parameters: the context must not bind them again.
    taken = {*list(params)[: len(args)], *kwargs}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        extra = {k: v for k, v in context.items() if k not in taken}
    else:
        extra = {name: context[name] for name in params if name in context and name not in taken}
    return fn(*args, **kwargs, **extra)


class PythonOperator(BaseOperator):
    """Calls `python_callable(*op_args, **op_kwargs)` plus the context entries it names as
    parameters; the return value becomes the `return_value` XCom."""

    template_fields: ClassVar[Sequence[str]] = ("templates_dict", "op_args", "op_kwargs")

    def __init__(
        self,
        *,
        python_callable: Callable[..., Any],
        op_args: Sequence[Any] = (),
        op_kwargs: Mapping[str, Any] | None = None,
        templates_dict: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not callable(python_callable):
            raise TypeError("python_callable must be callable")
        self.python_callable = python_callable
        self.op_args = list(op_args)
        self.op_kwargs = dict(op_kwargs or {})
        self.templates_dict = templates_dict

    def execute(self, context: Context) -> Any:
        context["templates_dict"] = self.templates_dict
        return call_with_context(self.python_callable, self.op_args, self.op_kwargs, context)


class BranchPythonOperator(PythonOperator):
    """The callable returns the task id (or ids) to follow; the other direct downstream tasks are
    skipped, and the scheduler's trigger rules carry the skip further."""

    def execute(self, context: Context) -> Any:
        chosen = super().execute(context)
        follow = {chosen} if isinstance(chosen, str) else set(chosen or ())
        unknown = follow - self.downstream_task_ids
        if unknown:
            raise ValueError(f"branch {sorted(unknown)} is not downstream of {self.task_id!r}")
        context["ti"].skip(self.downstream_task_ids - follow)
        return chosen


class ShortCircuitOperator(PythonOperator):
    """A falsy result skips every task downstream (transitively, whatever their trigger rules)."""

    def execute(self, context: Context) -> Any:
        condition = super().execute(context)
        if not condition:
            context["ti"].skip(self.dag.descendants(self.task_id))
        return condition
