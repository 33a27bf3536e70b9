"""The soak, shortened (`make soak` runs the full one): 160 tasks on 4 workers while a worker is
SIGKILLed every 3-5 s, four times, each while running a task body, and replaced. Nothing is lost,
nothing succeeds twice, and every try that did not succeed was on a killed worker. Unkilled, the
160 tasks take about 25 s: slower kills could miss the three this test asks for."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from slipstream.chaos.soak import SERVER_SETTINGS, Plan, soak
from tests.local.launch import running_stack

pytestmark = pytest.mark.e2e

PLAN = Plan(runs=8, tasks_per_run=20, kill_every=(3.0, 5.0), max_kills=4, timeout=200.0)


def test_workers_killed_at_random_lose_no_task_and_run_none_twice_to_success(tmp_path: Path) -> None:
    progress = io.StringIO()
    with running_stack(tmp_path, {**os.environ, **SERVER_SETTINGS}) as info:
        figures = soak(info, tmp_path, PLAN, progress)
    print("\n" + progress.getvalue() + "\n".join(figures.lines()))
    assert figures.kills >= 3
    assert figures.retries_after_kill > 0  # the kills did interrupt tries
    assert (figures.runs_not_success, figures.tasks_not_success) == (0, 0), figures.problems
    assert figures.successes_twice == 0, figures.problems
    assert (figures.retries_other, figures.bodies_unexplained) == (0, 0), figures.problems
