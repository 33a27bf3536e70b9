"""Rendering of templated fields with Jinja (and resolution of `XComArg`s found in them)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from slipstream.sdk._xcom_arg import XComArg

if TYPE_CHECKING:
    import jinja2

    from slipstream.sdk._context import Context


@cache
def environment() -> jinja2.Environment:
    # Imported on first use: parsing a DAG file (registration, `dags serialize`) never renders.
    import jinja2

    # StrictUndefined: a typo in a template fails the task instead of rendering an empty string.
    return jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701


def render(value: Any, context: Context) -> Any:
    """`value` with every string rendered and every `XComArg` resolved, recursively."""
    if isinstance(value, str):
        if "{{" not in value and "{%" not in value:
            return value
        return environment().from_string(value).render(context)
    if isinstance(value, XComArg):
        return value.resolve(context)
    if isinstance(value, list | tuple | set):
        return type(value)(render(item, context) for item in value)
    if isinstance(value, dict):
        return {key: render(item, context) for key, item in value.items()}
    return value
