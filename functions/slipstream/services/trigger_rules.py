"""Airflow's trigger rules: given the states of a task's direct upstreams, run it, wait, or settle
it without running (skipped / upstream_failed). A pure function, so every rule and edge case is
tested without storage (tests/scheduler/test_trigger_rules.py).

Mirrors `airflow.ti_deps.deps.trigger_rule_dep` with `flag_upstream_failed` (what the scheduler
uses): `done` counts upstreams in a terminal state; removed upstreams count as done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

Decision = Literal["run", "wait", "skipped", "upstream_failed"]
TriggerRule = Literal[
    "all_success",
    "all_failed",
    "all_done",
    "all_done_min_one_success",
    "all_skipped",
    "one_success",
    "one_failed",
    "one_done",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
]

TERMINAL = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
TRIGGER_RULES = frozenset(get_args(TriggerRule))


@dataclass(frozen=True)
class UpstreamStates:
    total: int
    success: int
    skipped: int
    failed: int
    upstream_failed: int
    done: int

    @classmethod
    def of(cls, states: Iterable[str | None]) -> UpstreamStates:
        listed = list(states)
        counts = Counter(listed)
        return cls(
            total=len(listed),
            success=counts["success"],
            skipped=counts["skipped"],
            failed=counts["failed"],
            upstream_failed=counts["upstream_failed"],
            done=sum(1 for s in listed if s in TERMINAL),
        )


def decide(rule: str, up: UpstreamStates) -> Decision:
    """What to do with a task that has not run yet, under `rule`, given its upstreams."""
    if rule == "always" or up.total == 0:
        return "run"
    all_done = up.done >= up.total
    any_failed = up.failed > 0 or up.upstream_failed > 0
    if rule == "all_success":
        if any_failed:
            return "upstream_failed"
        if up.skipped:
            return "skipped"
        return "run" if up.success >= up.total else "wait"
    if rule == "all_failed":
        if up.success or up.skipped:
            return "skipped"
        return "run" if up.failed + up.upstream_failed >= up.total else "wait"
    if rule == "all_done":
        return "run" if all_done else "wait"
    if rule == "all_skipped":
        if up.success or up.failed or up.upstream_failed:
            return "skipped"
        return "run" if up.skipped >= up.total else "wait"
    if rule == "one_success":
        if up.success:
            return "run"
        if all_done:
            return "skipped" if up.done == up.skipped else "upstream_failed"
        return "wait"
    if rule == "one_failed":
        if any_failed:
            return "run"
        return "skipped" if all_done else "wait"
    if rule == "one_done":
        if up.success or up.failed:
            return "run"
        return "skipped" if all_done else "wait"
    if rule == "none_failed":
        if any_failed:
            return "upstream_failed"
        return "run" if up.success + up.skipped >= up.total else "wait"
    if rule == "none_failed_min_one_success":
        if any_failed:
            return "upstream_failed"
        if up.skipped >= up.total:
            return "skipped"
        return "run" if up.success + up.skipped >= up.total else "wait"
    if rule == "all_done_min_one_success":
        if up.skipped:
            return "skipped"
        if not all_done:
            return "wait"
        return "run" if up.success else "upstream_failed"
    if rule == "none_skipped":
        if up.skipped:
            return "skipped"
        return "run" if all_done else "wait"
    raise ValueError(f"unknown trigger rule {rule!r}")
