"""The task graph of a DAG document, from each task's `upstream` list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from graphlib import CycleError, TopologicalSorter


def find_cycle(upstream: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle as a path (`[a, b, a]`), or None when the graph is a DAG."""
    try:
        TopologicalSorter(upstream).prepare()
    except CycleError as exc:
        return list(exc.args[1])
    return None


def relatives(upstream: Mapping[str, Iterable[str]], roots: Iterable[str], *, downstream: bool) -> set[str]:
    """Every task reachable from `roots` going down (or up) the edges, roots excluded."""
    edges: dict[str, set[str]] = {task: set() for task in upstream}
    for task, parents in upstream.items():
        for parent in parents:
            if downstream:
                edges.setdefault(parent, set()).add(task)
            else:
                edges[task].add(parent)
    found: set[str] = set()
    stack = list(roots)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in found:
                found.add(nxt)
                stack.append(nxt)
    return found - set(roots)
