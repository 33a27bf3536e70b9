"""Static checks of template.yaml against the code it deploys. Fast: nothing here calls AWS or SAM.

- every `Handler` names a module under functions/ that exists and, once written, imports;
- every setting the functions (and the worker) cannot run without in AWS is set by the template;
- IAM stays least-privilege: the worker never touches DynamoDB, no write action on `Resource: "*"`;
- the table, routes, stream mapping and requirements are the ones the code was written for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
from infra_support import (
    FUNCTIONS,
    ROOT,
    as_list,
    function_env,
    functions_of,
    identity_statements,
    is_write_action,
    load_template,
    needs_deployed_value,
    resources_of,
    role_statements,
    settings_fields,
)

FUNCTION_IDS = sorted(functions_of(load_template()))
SETTINGS = FUNCTIONS / "slipstream" / "core" / "settings.py"
WORKER_SETTINGS = ROOT / "worker" / "slipstream" / "worker" / "settings.py"
ENV_FILE = ROOT / "infra" / "sam-local.env.json"

# In the design but not (yet) fields of the settings classes: read by other code, or kept for it.
FUNCTION_VARIABLES_ELSEWHERE = {"SLIPSTREAM_QUEUE_URLS"}
WORKER_VARIABLES_ELSEWHERE: set[str] = set()


def _handler(template: dict[str, Any], logical_id: str) -> tuple[str, str, Path]:
    props = template["Resources"][logical_id]["Properties"]
    code_uri = props.get("CodeUri") or template["Globals"]["Function"]["CodeUri"]
    module, _, attribute = props["Handler"].rpartition(".")
    base = ROOT / code_uri / Path(*module.split("."))
    path = base / "__init__.py" if (base / "__init__.py").exists() else base.with_suffix(".py")
    return module, attribute, path


@pytest.mark.parametrize("logical_id", FUNCTION_IDS)
def test_handler_module_exists(template: dict[str, Any], logical_id: str) -> None:
    module, _, path = _handler(template, logical_id)
    assert path.is_file(), f"{logical_id}: handler module {module} has no file under functions/ ({path})"


@pytest.mark.parametrize("logical_id", FUNCTION_IDS)
def test_handler_imports(template: dict[str, Any], logical_id: str) -> None:
    """Imported in a fresh interpreter with functions/ first on sys.path, as Lambda's /var/task."""
    module, attribute, path = _handler(template, logical_id)
    if not path.is_file():
        pytest.skip(f"{module} is not written yet (test_handler_module_exists reports it)")
    script = (
        "import importlib, sys\n"
        f"sys.path.insert(0, {str(FUNCTIONS)!r})\n"
        f"handler = getattr(importlib.import_module({module!r}), {attribute!r})\n"
        "assert callable(handler), 'handler is not callable'\n"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
    env |= {k: v for k, v in function_env(template, logical_id).items() if isinstance(v, str)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"{module}.{attribute} does not import:\n{result.stderr}"


@pytest.mark.parametrize("logical_id", FUNCTION_IDS)
def test_function_settings_without_safe_default_are_set(template: dict[str, Any], logical_id: str) -> None:
    env = function_env(template, logical_id)
    needed = {f.env for f in settings_fields(SETTINGS, "Settings") if needs_deployed_value(f)}
    assert needed, "no resource settings found: has the Settings class moved?"
    assert not needed - env.keys(), f"{logical_id} lacks {sorted(needed - env.keys())}"


def test_function_slipstream_variables_are_known_settings(template: dict[str, Any]) -> None:
    known = {f.env for f in settings_fields(SETTINGS, "Settings")} | FUNCTION_VARIABLES_ELSEWHERE
    for logical_id in FUNCTION_IDS:
        declared = {k for k in function_env(template, logical_id) if k.startswith("SLIPSTREAM_")}
        assert declared <= known, f"{logical_id} sets variables nothing reads: {sorted(declared - known)}"


def test_queue_urls_name_the_default_queue(template: dict[str, Any]) -> None:
    value = template["Globals"]["Function"]["Environment"]["Variables"]["SLIPSTREAM_QUEUE_URLS"]
    rendered = value["Fn::Sub"].replace("${DefaultQueue}", "https://sqs.example/1/q")
    assert json.loads(rendered) == {"default": "https://sqs.example/1/q"}


def _worker_container(template: dict[str, Any]) -> dict[str, Any]:
    (task,) = resources_of(template, "AWS::ECS::TaskDefinition").values()
    (container,) = task["Properties"]["ContainerDefinitions"]
    return container


def test_worker_settings_without_safe_default_are_set(template: dict[str, Any]) -> None:
    env = {e["Name"] for e in _worker_container(template)["Environment"]}
    fields = settings_fields(WORKER_SETTINGS, "WorkerSettings")
    needed = {f.env for f in fields if needs_deployed_value(f)}
    assert not needed - env, f"the worker container lacks {sorted(needed - env)}"
    known = {f.env for f in fields} | WORKER_VARIABLES_ELSEWHERE
    declared = {name for name in env if name.startswith("SLIPSTREAM_")}
    assert declared <= known, f"the worker container sets variables nothing reads: {sorted(declared - known)}"


def test_worker_task_role_has_no_dynamodb_access(template: dict[str, Any]) -> None:
    (task,) = resources_of(template, "AWS::ECS::TaskDefinition").values()
    role = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    statements, external = role_statements(template, role)
    assert not external, f"the worker task role attaches policies this test cannot inspect: {external}"
    assert statements, "the worker task role has no statements: did the policies move?"
    for statement in statements:
        assert "NotAction" not in statement, "NotAction grants everything else, DynamoDB included"
        for action in as_list(statement["Action"]):
            assert not action.lower().startswith("dynamodb:"), (
                f"worker role names a DynamoDB action: {action}"
            )
            assert not fnmatchcase("dynamodb:getitem", action.lower()), f"{action} covers DynamoDB"


def test_no_write_action_on_any_resource(template: dict[str, Any]) -> None:
    for logical_id, statement in identity_statements(template):
        if statement.get("Effect") != "Allow":
            continue
        assert "NotResource" not in statement and "NotAction" not in statement, logical_id
        if "*" in as_list(statement["Resource"]):
            writes = [a for a in as_list(statement["Action"]) if is_write_action(a)]
            assert not writes, f"{logical_id}: write actions on Resource '*': {writes}"


def test_write_actions_are_classified() -> None:
    assert not is_write_action("ecr:GetAuthorizationToken")
    assert not is_write_action("s3:Get*")
    assert is_write_action("s3:PutObject")
    assert is_write_action("s3:*")
    assert is_write_action("*")
    assert is_write_action("dynamodb:*Item")


def test_lambda_roles_are_the_templates_own(template: dict[str, Any]) -> None:
    """Explicit roles keep SAM from attaching AWS managed policies (logs:* and stream reads on '*')."""
    for logical_id, function in functions_of(template).items():
        role = function["Properties"].get("Role", {}).get("Fn::GetAtt", [None])[0]
        assert role in template["Resources"], f"{logical_id} has no role of this template"
        _, external = role_statements(template, role)
        assert not external, f"{logical_id}'s role attaches managed policies: {external}"
        assert "Policies" not in function["Properties"], f"{logical_id}: policies belong on its role"


def test_table_matches_the_store() -> None:
    table = load_template()["Resources"]["Table"]
    props = table["Properties"]
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    indexes = {gsi["IndexName"]: gsi for gsi in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1", "GSI2"}
    for name, projection in (("GSI1", "ALL"), ("GSI2", "KEYS_ONLY")):
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ]
        assert indexes[name]["Projection"] == {"ProjectionType": projection}
    assert all(a["AttributeType"] == "S" for a in props["AttributeDefinitions"])
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_http_api_routes_reach_the_snapstart_alias(template: dict[str, Any]) -> None:
    props = template["Resources"]["ApiFunction"]["Properties"]
    assert props["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert props["AutoPublishAlias"], "SnapStart serves published versions only: route to an alias"
    routes = {
        (e["Properties"]["Method"], e["Properties"]["Path"])
        for e in props["Events"].values()
        if e["Type"] == "HttpApi" and e["Properties"]["PayloadFormatVersion"] == "2.0"
    }
    assert routes == {("ANY", "/execution"), ("ANY", "/execution/{proxy+}"), ("ANY", "/api/v2/{proxy+}")}


def test_stream_mapping_reports_partial_failures(template: dict[str, Any]) -> None:
    (event,) = template["Resources"]["StreamFunction"]["Properties"]["Events"].values()
    props = event["Properties"]
    assert event["Type"] == "DynamoDB"
    assert props["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["StartingPosition"] == "LATEST"
    assert {"MaximumRetryAttempts", "ParallelizationFactor"} <= props.keys()
    assert props["DestinationConfig"]["OnFailure"]["Type"] == "SQS"


def test_requirements_mirror_the_lambda_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    expected = sorted(project["dependencies"] + project["optional-dependencies"]["lambda"])
    lines = (FUNCTIONS / "requirements.txt").read_text().splitlines()
    pinned = sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))
    assert pinned == expected


def test_local_env_file_overrides_declared_variables_only(template: dict[str, Any]) -> None:
    """`sam local --env-vars` silently ignores variables the template does not declare."""
    overrides = json.loads(ENV_FILE.read_text())
    assert set(overrides) <= {"Parameters", *FUNCTION_IDS}, "sections must be Parameters or function ids"
    for logical_id in FUNCTION_IDS:
        declared = function_env(template, logical_id).keys()
        wanted = overrides.get("Parameters", {}) | overrides.get(logical_id, {})
        assert wanted.keys() <= declared, f"{logical_id} would ignore {sorted(wanted.keys() - declared)}"
        assert "AWS_ENDPOINT_URL" in wanted, "the local run must point boto3 at the local endpoint"
