"""template.yaml, read so that the local stack is built from what is deployed rather than a copy.

CloudFormation's short-form tags (`!Ref`, `!GetAtt`, `!Sub`, ...) are not YAML that a safe loader
accepts; they are read into their long form (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`), as
CloudFormation itself does, and resolved only where the local stack needs a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[3] / "template.yaml"


class _CloudFormationLoader(yaml.SafeLoader):
    """A safe loader that also reads CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The parsed template (cached: it does not change while a process runs)."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: the local stack runs from a source checkout")
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    return template


def resources_of_type(template: Mapping[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    """Logical id -> Properties of every resource of one type, in template order."""
    return {
        logical_id: resource.get("Properties", {})
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == type_
    }


def function_events(template: Mapping[str, Any], handler: str, event_type: str) -> list[dict[str, Any]]:
    """The Properties of the `event_type` events of the function whose Handler is `handler`."""
    return [
        event.get("Properties", {})
        for function in resources_of_type(template, "AWS::Serverless::Function").values()
        if function.get("Handler") == handler
        for event in function.get("Events", {}).values()
        if event["Type"] == event_type
    ]


def resolve(value: Any, template: Mapping[str, Any], lookup: Callable[[str], str] | None = None) -> Any:
    """`value` with intrinsic functions evaluated: `Ref` to a parameter gives its default; `Ref` to a
    resource, `Fn::GetAtt` and `${...}` in `Fn::Sub` go to `lookup` ("Queue", "Queue.Arn")."""

    def ref(name: str) -> Any:
        parameter = template.get("Parameters", {}).get(name)
        if parameter is not None:
            return parameter.get("Default")
        if lookup is None:
            raise KeyError(f"{name!r} has no local value")
        return lookup(name)

    if isinstance(value, list):
        return [resolve(item, template, lookup) for item in value]
    if not isinstance(value, dict):
        return value
    if value.keys() == {"Ref"}:
        return ref(value["Ref"])
    if value.keys() == {"Fn::GetAtt"}:
        return ref(".".join(value["Fn::GetAtt"]))
    if value.keys() == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return re.sub(r"\$\{([^}!]+)\}", lambda match: str(ref(match[1])), value["Fn::Sub"])
    return {key: resolve(item, template, lookup) for key, item in value.items()}
