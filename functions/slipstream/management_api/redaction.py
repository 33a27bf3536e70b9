"""Masking secrets in what the API returns, the way Airflow's secrets masker decides it.

A connection's password is never returned; extras and variable values are masked under any key
whose name contains one of Airflow's sensitive words (`password`, `token`, `api_key`, ...).
"""

from __future__ import annotations

import json
from typing import Any

MASK = "***"
SENSITIVE_WORDS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "authorization",
        "passphrase",
        "passwd",
        "password",
        "private_key",
        "secret",
        "token",
        "keyfile_dict",
        "service_account",
    }
)


def is_sensitive(name: str) -> bool:
    lowered = name.strip().lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


def redact(value: Any, depth: int = 5) -> Any:
    """`value` with the values of sensitive keys masked, down to `depth` levels of nesting."""
    if depth < 0:
        return value
    if isinstance(value, dict):
        return {k: MASK if is_sensitive(str(k)) else redact(v, depth - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, depth - 1) for v in value]
    return value


def redact_json_text(text: str | None, *, name: str = "", depth: int = 5) -> str | None:
    """A stored JSON string (connection extra, variable value) as it may be shown. Text that is
    not JSON is masked whole if `name` is sensitive."""
    if text is None:
        return None
    if is_sensitive(name):
        return MASK
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if not isinstance(parsed, dict | list):
        return text
    return json.dumps(redact(parsed, depth))


def mask_password(password: str | None) -> str | None:
    return MASK if password else None
