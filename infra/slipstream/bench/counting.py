"""Counting DynamoDB round trips and the time spent in them, through botocore's event hooks.

A call's time is the whole SDK call, from its first event (`provide-client-params`) to
`after-call`: building, signing and sending the request and parsing the answer. What a handler
spends outside it is its own cost.

The hooks may fire on several threads at once (the local stack's API and stream handlers share one
client), so updates take a lock and each call is timed on its own thread.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallCounter:
    calls: int = 0
    seconds: float = 0.0
    operations: list[str] = field(default_factory=list)
    threads: Counter[str] = field(default_factory=Counter)
    """Calls by calling thread, named without a pool's `_<n>` suffix (`lambda-api_3` is `lambda-api`)."""
    _started: dict[int, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        service = client.meta.service_model.service_name
        client.meta.events.register(f"provide-client-params.{service}", self._before)
        client.meta.events.register(f"after-call.{service}", self._after)

    def _before(self, model: Any, **_: Any) -> None:
        thread = threading.current_thread().name
        pool, underscore, number = thread.rpartition("_")
        with self._lock:
            self.calls += 1
            self.operations.append(model.name)
            self.threads[pool if underscore and number.isdigit() else thread] += 1
            self._started[threading.get_ident()] = time.perf_counter()

    def _after(self, model: Any, **_: Any) -> None:
        with self._lock:
            started = self._started.pop(threading.get_ident(), None)
            if started is not None:
                self.seconds += time.perf_counter() - started

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.seconds = 0.0
            self.operations.clear()
            self.threads.clear()
