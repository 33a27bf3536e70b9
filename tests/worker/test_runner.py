"""The Task Runner in a real subprocess, driven over the comms protocol by a scripted peer."""

from __future__ import annotations

import pytest

from slipstream.worker.messages import (
    DeleteXCom,
    RetryTask,
    SetExecutionTimeout,
    SetRenderedFields,
    SetXCom,
    SucceedTask,
    TaskState,
)
from tests.worker.harness import ScriptedSupervisor


def test_noop_task_reports_success_and_pushes_nothing(peer: ScriptedSupervisor) -> None:
    result = peer.run("misbehave.py", "misbehave", "noop")
    assert result.exit_code == 0
    assert [type(r) for r in result.requests] == [SucceedTask]


def test_return_value_becomes_the_return_value_xcom(peer: ScriptedSupervisor) -> None:
    result = peer.run("taskflow.py", "taskflow", "extract")
    assert result.exit_code == 0
    assert [type(r) for r in result.requests] == [SetXCom, SucceedTask]
    assert peer.xcoms[("extract", "return_value", -1)] == {"a": 1, "b": 2}


def test_stale_xcoms_are_cleared_first(peer: ScriptedSupervisor) -> None:
    peer.xcoms[("noop", "stale", -1)] = 1
    result = peer.run("misbehave.py", "misbehave", "noop", xcom_keys_to_clear=("stale",))
    assert isinstance(result.requests[0], DeleteXCom)
    assert ("noop", "stale", -1) not in peer.xcoms


@pytest.mark.parametrize(
    ("task_id", "should_retry", "outcome", "state"),
    [
        ("boom", True, RetryTask, "up_for_retry"),
        ("boom", False, TaskState, "failed"),
        ("give_up", True, TaskState, "failed"),
        ("skip", True, TaskState, "skipped"),
    ],
)
def test_failures_are_reported_by_the_runner(
    peer: ScriptedSupervisor, task_id: str, should_retry: bool, outcome: type, state: str
) -> None:
    result = peer.run("misbehave.py", "misbehave", task_id, should_retry=should_retry)
    assert result.exit_code == 0
    assert isinstance(result.outcome, outcome)
    assert result.outcome.state.value == state


def test_a_failure_logs_the_traceback_and_gives_a_retry_reason(peer: ScriptedSupervisor) -> None:
    result = peer.run("misbehave.py", "misbehave", "boom", should_retry=True)
    assert isinstance(result.outcome, RetryTask)
    assert result.outcome.retry_reason == "ValueError: boom"
    failure = next(r for r in result.logs if r["event"] == "Task failed")
    assert failure["level"] == "error"
    assert 'raise ValueError("boom")' in failure["error_detail"]


@pytest.mark.parametrize(("task_id", "exit_code"), [("hard_exit", 3), ("sys_exit", 0), ("killed", -9)])
def test_a_runner_that_dies_reports_nothing(peer: ScriptedSupervisor, task_id: str, exit_code: int) -> None:
    result = peer.run("misbehave.py", "misbehave", task_id)
    assert result.exit_code == exit_code
    assert result.outcome is None


def test_unknown_task_fails_the_try(peer: ScriptedSupervisor) -> None:
    result = peer.run("misbehave.py", "misbehave", "no_such_task", should_retry=True)
    assert isinstance(result.outcome, RetryTask)
    assert "no_such_task" in (result.outcome.retry_reason or "")


def test_megabytes_of_output_do_not_corrupt_the_channel(peer: ScriptedSupervisor) -> None:
    result = peer.run("misbehave.py", "misbehave", "chatty")
    assert result.exit_code == 0
    assert isinstance(result.outcome, SucceedTask)
    assert peer.xcoms[("chatty", "return_value", -1)] == "still talking"
    line = b"x" * 1023 + b"\n"
    assert result.stdout == line * 4096
    assert result.stderr == line * 4096


def test_execution_timeout_is_handed_to_the_supervisor(peer: ScriptedSupervisor) -> None:
    # The scripted peer does not enforce it: the task just has to announce it before running.
    result = peer.run("branching.py", "branching", "count")
    timeouts = result.of(SetExecutionTimeout)
    assert [t.seconds for t in timeouts] == [300.0]
    assert result.requests.index(timeouts[0]) < result.requests.index(result.outcome)


def test_no_rendered_fields_are_sent_when_nothing_rendered(peer: ScriptedSupervisor) -> None:
    result = peer.run("misbehave.py", "misbehave", "noop")
    assert result.of(SetRenderedFields) == []
