"""`Variable`: key/value configuration stored by the Execution API."""

from __future__ import annotations

import json
from typing import Any

from slipstream.sdk import _runtime
from slipstream.sdk._exceptions import AirflowRuntimeError

_MISSING: Any = object()


class Variable:
    """Read and write Variables from task code: `Variable.get("bucket")`."""

    @staticmethod
    def get(key: str, default: Any = _MISSING, deserialize_json: bool = False) -> Any:
        """The variable's value; `default` if it does not exist (else `KeyError`)."""
        from slipstream.worker.messages import GetVariable

        try:
            result = _runtime.request(GetVariable(key=key))
        except AirflowRuntimeError as exc:
            if exc.error != "VARIABLE_NOT_FOUND":
                raise
            if default is _MISSING:
                raise KeyError(f"Variable {key} does not exist") from None
            return default
        value = result.value
        return json.loads(value) if deserialize_json and value is not None else value

    @staticmethod
    def set(key: str, value: Any, description: str | None = None, serialize_json: bool = False) -> None:
        from slipstream.worker.messages import PutVariable

        text = json.dumps(value) if serialize_json else (None if value is None else str(value))
        _runtime.request(PutVariable(key=key, value=text, description=description))


class VariableAccessor:
    """`var` in templates: `{{ var.value.bucket }}` and `{{ var.json.settings.retries }}`."""

    def __init__(self, deserialize_json: bool) -> None:
        self._json = deserialize_json

    def __getattr__(self, key: str) -> Any:
        return Variable.get(key, deserialize_json=self._json)

    def get(self, key: str, default: Any = None) -> Any:
        return Variable.get(key, default, deserialize_json=self._json)
