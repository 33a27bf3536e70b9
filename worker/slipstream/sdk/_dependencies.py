"""Task dependencies: `>>`, `<<`, `set_upstream` / `set_downstream` and `chain`."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from slipstream.sdk._baseoperator import BaseOperator

    Node: TypeAlias = "DependencyMixin | Sequence[DependencyMixin]"


def _operators(node: Node) -> list[BaseOperator]:
    if isinstance(node, DependencyMixin):
        return node.operators
    return [op for item in node for op in item.operators]


class DependencyMixin:
    """Something that stands for one or more operators in a dependency expression."""

    @property
    def operators(self) -> list[BaseOperator]:
        raise NotImplementedError

    def set_downstream(self, other: Node) -> None:
        for up in self.operators:
            for down in _operators(other):
                up.downstream_task_ids.add(down.task_id)
                down.upstream_task_ids.add(up.task_id)

    def set_upstream(self, other: Node) -> None:
        for up in _operators(other):
            up.set_downstream(self)

    def __rshift__(self, other: Any) -> Any:
        self.set_downstream(other)
        return other

    def __lshift__(self, other: Any) -> Any:
        self.set_upstream(other)
        return other

    def __rrshift__(self, other: Any) -> Any:
        """`[a, b] >> self`."""
        self.set_upstream(other)
        return self

    def __rlshift__(self, other: Any) -> Any:
        """`[a, b] << self`."""
        self.set_downstream(other)
        return self


def chain(*nodes: DependencyMixin | Sequence[DependencyMixin]) -> None:
    """`chain(a, [b, c], d)` is `a >> [b, c] >> d`; two adjacent lists must be the same length and
    are linked pairwise, as in Airflow."""
    for up, down in itertools.pairwise(nodes):
        if isinstance(up, DependencyMixin) or isinstance(down, DependencyMixin):
            for op in _operators(up):
                op.set_downstream(down)
            continue
        if len(up) != len(down):
            raise ValueError(f"chain() cannot link lists of {len(up)} and {len(down)} tasks")
        for left, right in zip(up, down, strict=True):
            left.set_downstream(right)


def iter_nodes(value: Any) -> Iterable[DependencyMixin]:
    """Every dependency node inside nested lists, tuples, sets and dict values (TaskFlow arguments)."""
    if isinstance(value, DependencyMixin):
        yield value
    elif isinstance(value, list | tuple | set):
        for item in value:
            yield from iter_nodes(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from iter_nodes(item)
