"""Every trigger rule against the upstream states that decide it (Airflow's semantics)."""

from __future__ import annotations

import pytest

from slipstream.services.trigger_rules import TRIGGER_RULES, UpstreamStates, decide

S, F, K, U, N = "success", "failed", "skipped", "upstream_failed", None

CASES = [
    # rule, upstream states, decision
    ("all_success", [S, S], "run"),
    ("all_success", [S, N], "wait"),
    ("all_success", [S, F], "upstream_failed"),
    ("all_success", [S, U], "upstream_failed"),
    ("all_success", [S, K], "skipped"),
    ("all_failed", [F, U], "run"),
    ("all_failed", [F, N], "wait"),
    ("all_failed", [F, S], "skipped"),
    ("all_failed", [F, K], "skipped"),
    ("all_done", [S, F, K, U], "run"),
    ("all_done", [S, N], "wait"),
    ("all_skipped", [K, K], "run"),
    ("all_skipped", [K, N], "wait"),
    ("all_skipped", [K, S], "skipped"),
    ("one_success", [S, N], "run"),
    ("one_success", [F, N], "wait"),
    ("one_success", [F, K], "upstream_failed"),
    ("one_success", [K, K], "skipped"),
    ("one_failed", [F, N], "run"),
    ("one_failed", [U, N], "run"),
    ("one_failed", [S, N], "wait"),
    ("one_failed", [S, K], "skipped"),
    ("one_done", [S, N], "run"),
    ("one_done", [F, N], "run"),
    ("one_done", [K, N], "wait"),
    ("one_done", [K, U], "skipped"),
    ("none_failed", [S, K], "run"),
    ("none_failed", [S, N], "wait"),
    ("none_failed", [S, F], "upstream_failed"),
    ("none_failed", [K, K], "run"),
    ("none_failed_min_one_success", [S, K], "run"),
    ("none_failed_min_one_success", [K, K], "skipped"),
    ("none_failed_min_one_success", [U, S], "upstream_failed"),
    ("none_failed_min_one_success", [S, N], "wait"),
    ("none_skipped", [S, F], "run"),
    ("none_skipped", [S, N], "wait"),
    ("none_skipped", [S, K], "skipped"),
    ("all_done_min_one_success", [S, F], "run"),
    ("all_done_min_one_success", [F, U], "upstream_failed"),
    ("all_done_min_one_success", [S, K], "skipped"),
    ("all_done_min_one_success", [S, N], "wait"),
    ("always", [F, N], "run"),
    ("always", [], "run"),
]


@pytest.mark.parametrize(("rule", "states", "expected"), CASES)
def test_decide(rule: str, states: list[str | None], expected: str) -> None:
    assert decide(rule, UpstreamStates.of(states)) == expected


def test_every_rule_is_covered() -> None:
    assert {rule for rule, _, _ in CASES} == TRIGGER_RULES


def test_root_tasks_run_whatever_the_rule() -> None:
    for rule in TRIGGER_RULES:
        assert decide(rule, UpstreamStates.of([])) == "run"


def test_unknown_rule_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown trigger rule"):
        decide("sometimes", UpstreamStates.of([S]))
