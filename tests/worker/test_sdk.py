"""SDK semantics: how DAG files declare tasks, and what the tasks do when a runner runs them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from slipstream.sdk import DAG, EmptyOperator, chain, task
from slipstream.sdk._loader import load_dags
from slipstream.worker.messages import SetRenderedFields, SkipDownstreamTasks, SucceedTask, TaskState
from tests.worker.conftest import EXAMPLE_DAGS
from tests.worker.harness import RUN_ID, ScriptedSupervisor

# --- declaring -------------------------------------------------------------------------------


def test_dependency_operators_and_chain() -> None:
    with DAG("deps") as dag:
        a, b, c, d, e, f = (EmptyOperator(task_id=name) for name in "abcdef")
        a >> [b, c]
        d << c
        chain(d, [e, f])
    assert dag.task_dict["a"].downstream_task_ids == {"b", "c"}
    assert dag.task_dict["d"].upstream_task_ids == {"c"}
    assert dag.task_dict["e"].upstream_task_ids == {"d"}
    assert dag.descendants("a") == {"b", "c", "d", "e", "f"}


def test_chain_links_adjacent_lists_pairwise() -> None:
    with DAG("pairs") as dag:
        a, b, c, d = (EmptyOperator(task_id=name) for name in "abcd")
        chain([a, b], [c, d])
        with pytest.raises(ValueError, match="lists of 2 and 1"):
            chain([a, b], [c])
    assert dag.task_dict["c"].upstream_task_ids == {"a"}
    assert dag.task_dict["d"].upstream_task_ids == {"b"}


def test_taskflow_calls_wire_dependencies_and_defaults() -> None:
    dags = load_dags(EXAMPLE_DAGS / "taskflow.py")
    tasks = dags["taskflow"].task_dict
    assert tasks["split"].upstream_task_ids == {"extract"}
    assert tasks["load"].upstream_task_ids == {"split"}
    assert tasks["extract"].retries == 2  # default_args
    assert tasks["extract"].retry_delay == timedelta(seconds=30)
    assert tasks["load"].retries == 0  # the task's own argument wins


def test_calling_a_task_function_twice_makes_two_tasks() -> None:
    @task
    def step() -> int:
        return 1

    with DAG("twice") as dag:
        step() >> step.override(retries=4)()
    assert sorted(dag.task_dict) == ["step", "step__1"]
    assert dag.task_dict["step__1"].retries == 4
    assert dag.task_dict["step__1"].upstream_task_ids == {"step"}


def test_tasks_need_a_dag_and_unique_ids() -> None:
    with pytest.raises(RuntimeError, match="inside a DAG"):
        EmptyOperator(task_id="orphan")
    with DAG("dupes"):
        EmptyOperator(task_id="x")
        with pytest.raises(ValueError, match="already has a task"):
            EmptyOperator(task_id="x")


def test_a_file_defining_no_globals_still_registers_its_dags(tmp_path: Path) -> None:
    dag_file = tmp_path / "hidden.py"
    dag_file.write_text(
        "from slipstream.sdk import dag, task\n"
        "@dag\ndef hidden():\n    @task\n    def t(): ...\n    t()\n"
        "hidden()\n"
    )
    assert list(load_dags(dag_file)) == ["hidden"]


# --- running ---------------------------------------------------------------------------------


def test_taskflow_arguments_are_pulled_from_upstream_xcoms(peer: ScriptedSupervisor) -> None:
    for task_id in ("extract", "split", "load"):
        assert isinstance(peer.run("taskflow.py", "taskflow", task_id).outcome, SucceedTask)
    assert peer.xcoms[("split", "keys", -1)] == ["a", "b"]  # multiple_outputs
    assert peer.xcoms[("split", "total", -1)] == 3
    assert peer.xcoms[("load", "return_value", -1)] == {"keys": ["a", "b"], "scaled": 6}


def test_taskflow_outlets_are_reported_with_success(peer: ScriptedSupervisor) -> None:
    peer.xcoms[("split", "keys", -1)] = []
    peer.xcoms[("split", "total", -1)] = 0
    outcome = peer.run("taskflow.py", "taskflow", "load").outcome
    assert isinstance(outcome, SucceedTask)
    assert [(a.name, a.uri, a.type) for a in outcome.task_outlets] == [
        ("orders", "s3://lake/orders", "Asset")
    ]


@pytest.mark.parametrize(("go", "skipped"), [("left", ["right"]), ("right", ["left"])])
def test_branch_skips_the_directions_not_taken(peer: ScriptedSupervisor, go: str, skipped: list[str]) -> None:
    result = peer.run("branching.py", "branching", "choose", conf={"go": go})
    assert [s.tasks for s in result.of(SkipDownstreamTasks)] == [skipped]
    assert peer.xcoms[("choose", "return_value", -1)] == go


def test_short_circuit_skips_everything_downstream_when_false(peer: ScriptedSupervisor) -> None:
    closed = peer.run("branching.py", "branching", "gate", conf={"open": False})
    assert [s.tasks for s in closed.of(SkipDownstreamTasks)] == [["after_gate", "far"]]
    assert isinstance(closed.outcome, SucceedTask)
    opened = peer.run("branching.py", "branching", "gate", conf={"open": True})
    assert opened.of(SkipDownstreamTasks) == []


def test_templated_fields_are_rendered_and_reported(peer: ScriptedSupervisor) -> None:
    result = peer.run("templating.py", "templating", "greet")
    [rendered] = result.of(SetRenderedFields)
    assert rendered.rendered_fields == {
        "templates_dict": {"when": "2026-07-01"},
        "op_args": ["Hello"],
        "op_kwargs": {"name": "world"},
    }
    assert peer.xcoms[("greet", "return_value", -1)] == "Hello, world! (2026-07-01)"


def test_run_conf_overrides_params_in_templates(peer: ScriptedSupervisor) -> None:
    peer.run("templating.py", "templating", "greet", conf={"who": "Slipstream"})
    assert peer.xcoms[("greet", "return_value", -1)] == "Hello, Slipstream! (2026-07-01)"


def test_templates_see_variables_and_the_task_instance(peer: ScriptedSupervisor) -> None:
    peer.variables["bucket"] = "lake"
    peer.run("templating.py", "templating", "from_template")
    assert peer.xcoms[("from_template", "return_value", -1)] == "lake/1"


def test_an_undefined_template_variable_fails_the_task(peer: ScriptedSupervisor) -> None:
    result = peer.run("templating.py", "templating", "from_template")  # no `bucket` variable
    assert isinstance(result.outcome, TaskState)
    assert result.outcome.state.value == "failed"


def test_variables_and_connections_go_through_the_supervisor(peer: ScriptedSupervisor) -> None:
    peer.variables["bucket"] = "lake"
    peer.connections["warehouse"] = {
        "conn_id": "warehouse",
        "conn_type": "postgres",
        "host": "db.internal",
        "schema": "analytics",
        "login": "etl",
        "password": "p@ss word",
        "port": 5432,
        "extra": '{"region": "eu-west-1"}',
    }
    result = peer.run("templating.py", "templating", "config")
    assert isinstance(result.outcome, SucceedTask)
    assert peer.xcoms[("config", "return_value", -1)] == {
        "bucket": "lake",
        "missing": "fallback",
        "uri": "postgres://etl:p%40ss%20word@db.internal:5432/analytics?region=eu-west-1",
        "region": "eu-west-1",
    }
    assert peer.variables["last_run"] == RUN_ID


def test_a_missing_connection_fails_the_task(peer: ScriptedSupervisor) -> None:
    peer.variables["bucket"] = "lake"
    result = peer.run("templating.py", "templating", "config")
    assert isinstance(result.outcome, TaskState)
    assert "isn't defined" in next(r for r in result.logs if r["event"] == "Task failed")["error_detail"]


def test_bash_operator_pushes_its_last_line(peer: ScriptedSupervisor) -> None:
    result = peer.run("branching.py", "branching", "echo")
    assert isinstance(result.outcome, SucceedTask)
    assert result.stdout.startswith(b"first\n")
    assert peer.xcoms[("echo", "return_value", -1)] == f"ds=2026-07-01 run={RUN_ID}"


def test_bash_decorator_renders_the_returned_command(peer: ScriptedSupervisor) -> None:
    result = peer.run("branching.py", "branching", "count", conf={"n": 2})
    assert result.stdout == b"1\n2\n3\n"
    assert peer.xcoms[("count", "return_value", -1)] == "3"


def test_bash_exit_99_skips(peer: ScriptedSupervisor) -> None:
    outcome = peer.run("branching.py", "branching", "skip_me").outcome
    assert isinstance(outcome, TaskState)
    assert outcome.state.value == "skipped"
