"""Helpers for the infrastructure tests: the template as data, and the SAM CLI venv.

The template is read with a YAML loader that turns CloudFormation's short-form tags (`!Ref`,
`!GetAtt`, `!Sub`, ...) into their long forms, so tests see what CloudFormation sees. Tests that
need the SAM CLI, cfn-lint or the runtime interface emulator use `.sam-venv` (see
infra/sam_venv.sh) and skip only when that venv is missing.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTIONS = ROOT / "functions"
SAM_VENV = ROOT / ".sam-venv"
SAM_BIN = SAM_VENV / "bin"
SAM_MISSING = f"{SAM_VENV.relative_to(ROOT)} is missing: run `make sam-venv` (infra/sam_venv.sh)"


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def _load(path: Path) -> dict[str, Any]:
    with path.open() as f:
        return yaml.load(f, Loader=_CfnLoader)  # noqa: S506 (SafeLoader subclass)


def load_template() -> dict[str, Any]:
    return _load(TEMPLATE)


def resources_of(template: dict[str, Any], *types: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] in types}


def functions_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, "AWS::Serverless::Function")


def function_env(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """The environment SAM gives one function: Globals merged with the function's own."""
    merged = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}))
    own = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    merged.update(own)
    return merged


def sam_env(**extra: str) -> dict[str, str]:
    """Environment for SAM CLI commands: no telemetry, no credentials or profile from the caller,
    and `.sam-venv/bin` first on PATH so that `sam build` finds the runtime's python3.13 there."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "SAM_", "PYTHON", "VIRTUAL_ENV")) and k != "PYENV_VERSION"
    }
    env["PATH"] = os.pathsep.join([str(SAM_BIN), env.get("PATH", "")])
    env["SAM_CLI_TELEMETRY"] = "0"
    env.update(extra)
    return env


# ----------------------------------------------------------------------------- IAM


def _branches(value: Any) -> list[Any]:
    """Both outcomes of an `Fn::If` (minus `AWS::NoValue`), or the value itself."""
    if isinstance(value, dict) and "Fn::If" in value:
        _, yes, no = value["Fn::If"]
        return [b for branch in (yes, no) for b in _branches(branch)]
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statement = document.get("Statement", [])
    return [
        s for item in (statement if isinstance(statement, list) else [statement]) for s in _branches(item)
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def identity_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every identity-policy statement in the template, with the logical id that holds it."""
    found: list[tuple[str, dict[str, Any]]] = []
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Role", "AWS::Serverless::Function"):
            for policy in (p for item in as_list(props.get("Policies", [])) for p in _branches(item)):
                if isinstance(policy, dict):
                    document = policy.get("PolicyDocument", policy)
                    found += [(logical_id, s) for s in _statements(document)]
        elif resource["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            found += [(logical_id, s) for s in _statements(props["PolicyDocument"])]
    return found


def role_statements(template: dict[str, Any], role: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """A role's statements (inline, and from the template's policies attached to it either way),
    plus the managed policy ARNs it names that the template does not define."""
    resources = template["Resources"]
    props = resources[role]["Properties"]
    statements = [
        s
        for item in as_list(props.get("Policies", []))
        for policy in _branches(item)
        for s in _statements(policy["PolicyDocument"])
    ]
    external = []
    for arn in as_list(props.get("ManagedPolicyArns", [])):
        if isinstance(arn, dict) and arn.get("Ref") in resources:
            statements += _statements(resources[arn["Ref"]]["Properties"]["PolicyDocument"])
        else:
            external.append(arn)
    for policy in resources.values():
        attached = policy["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy") and {
            "Ref": role
        } in as_list(policy["Properties"].get("Roles", []))
        if attached:
            statements += _statements(policy["Properties"]["PolicyDocument"])
    return statements, external


_READ_VERBS = ("Get", "List", "Describe", "BatchGet", "BatchCheck", "Query", "Scan", "Head", "View")


def is_write_action(action: str) -> bool:
    """True unless the action (or every action a wildcard can match) only reads."""
    _, _, verb = action.partition(":")
    stem = verb.split("*", 1)[0]
    return not stem.startswith(_READ_VERBS)


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SettingField:
    name: str
    env: str
    has_default: bool


def settings_fields(path: Path, class_name: str) -> list[SettingField]:
    """The fields of a pydantic-settings class, read from its source (nothing is imported)."""
    tree = ast.parse(path.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    prefix = ""
    fields = []
    for node in cls.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "model_config" for t in node.targets
        ):
            call = node.value
            assert isinstance(call, ast.Call)
            for kw in call.keywords:
                if kw.arg == "env_prefix":
                    prefix = ast.literal_eval(kw.value)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name == "model_config" or name.startswith("_"):
                continue
            has_default, alias = _field_default(node.value)
            fields.append(SettingField(name, (alias or f"{prefix}{name}").upper(), has_default))
    return fields


def _field_default(value: ast.expr | None) -> tuple[bool, str | None]:
    if value is None:
        return False, None
    is_field = (
        isinstance(value, ast.Call) and getattr(value.func, "id", getattr(value.func, "attr", "")) == "Field"
    )
    if not is_field:
        return True, None
    assert isinstance(value, ast.Call)
    kwargs = {kw.arg: kw.value for kw in value.keywords}
    alias = next(
        (
            ast.literal_eval(kwargs[k])
            for k in ("validation_alias", "alias")
            if k in kwargs and _is_str(kwargs[k])
        ),
        None,
    )
    if "default_factory" in kwargs:
        return True, alias
    default = value.args[0] if value.args else kwargs.get("default")
    required = default is None or (isinstance(default, ast.Constant) and default.value is Ellipsis)
    return not required, alias


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


# Field names that point at a deployed resource: their defaults name local stand-ins only.
RESOURCE_POINTER_SUFFIXES = ("_name", "_secret", "_url", "_urls", "_arn", "_queues")


def needs_deployed_value(field: SettingField) -> bool:
    """No safe default in AWS: required, or a pointer to a resource whose real name only the
    stack knows (table, bucket, secret, queue, URL)."""
    return not field.has_default or field.name.endswith(RESOURCE_POINTER_SUFFIXES)
