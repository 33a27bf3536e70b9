"""Secrets a task may print, masked in its log as Airflow's secrets masker masks them.

The Supervisor sees every connection and variable its task reads or writes (it proxies them), so
it knows what to hide before the task can print it: a connection's password, the values of its
extra whose key sounds secret, and the value of a variable whose key sounds secret. Every line and
record of the try's log has them replaced with `***`, whatever the task does with them.
"""

from __future__ import annotations

import json
import re
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
"""Airflow's default `[core] sensitive_var_conn_names`: a key containing one of these is secret.
The API masks with the same words (`management_api/redaction.py`; the worker imports nothing of
the functions, so tests/worker/test_masking.py checks the two lists agree)."""
MIN_LENGTH = 4
"""Shorter values are left alone: masking every `abc` in a log would hide more than it protects."""


def sensitive(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in SENSITIVE_WORDS)


class Masker:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: object) -> None:
        text = value if isinstance(value, str) else json.dumps(value) if value is not None else ""
        if len(text) >= MIN_LENGTH and text not in self._secrets:
            self._secrets.add(text)
            alternatives = sorted(self._secrets, key=len, reverse=True)  # longest first
            self._pattern = re.compile("|".join(re.escape(s) for s in alternatives))

    def connection(self, password: str | None, extra: str | None) -> None:
        self.add(password)
        try:
            fields = json.loads(extra) if extra else {}
        except ValueError:
            return
        if isinstance(fields, dict):
            for key, value in fields.items():
                if sensitive(str(key)):
                    self.add(value)

    def variable(self, key: str, value: object) -> None:
        if sensitive(key):
            self.add(value)

    def redact(self, value: Any) -> Any:
        """`value` with every secret masked (strings inside lists and dicts too)."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self._pattern.sub(MASK, value)
        if isinstance(value, dict):
            return {k: self.redact(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact(v) for v in value]
        return value
