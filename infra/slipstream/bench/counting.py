"""Counting DynamoDB round trips and the time spent in them, through botocore's event hooks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallCounter:
    calls: int = 0
    seconds: float = 0.0
    operations: list[str] = field(default_factory=list)
    _started: dict[int, float] = field(default_factory=dict)

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-call.{service}", self._before)
        client.meta.events.register(f"after-call.{service}", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        self.calls += 1
        self.operations.append(model.name)
        self._started[id(model)] = time.perf_counter()

    def _after(self, model: Any, **_: Any) -> None:
        started = self._started.pop(id(model), None)
        if started is not None:
            self.seconds += time.perf_counter() - started

    def reset(self) -> None:
        self.calls = 0
        self.seconds = 0.0
        self.operations.clear()
