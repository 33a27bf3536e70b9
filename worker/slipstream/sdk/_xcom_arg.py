"""`XComArg`: the output of a task, used as an argument of another.

Calling a TaskFlow function in a DAG returns one. Passing it to another task both adds the
dependency and, at run time, is replaced by the value pulled from the upstream task's XCom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slipstream.sdk._dependencies import DependencyMixin

if TYPE_CHECKING:
    from slipstream.sdk._baseoperator import BaseOperator
    from slipstream.sdk._context import Context


class XComArg(DependencyMixin):
    def __init__(self, operator: BaseOperator, key: str = "return_value") -> None:
        self.operator = operator
        self.key = key

    @property
    def operators(self) -> list[BaseOperator]:
        return [self.operator]

    def __getitem__(self, key: str) -> XComArg:
        """One key of a `multiple_outputs` task."""
        return XComArg(self.operator, key)

    def resolve(self, context: Context) -> Any:
        return context["ti"].xcom_pull(task_ids=self.operator.task_id, key=self.key)

    def __repr__(self) -> str:
        return f"XComArg({self.operator.task_id!r}, {self.key!r})"
