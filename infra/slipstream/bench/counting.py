"""Counting DynamoDB round trips and the time spent in them, by timing each of a client's methods.

A call's time is the whole SDK call, from the client method's entry to its return: validating,
serializing, signing and sending the request and parsing the answer (the client's own retries
included). What a handler spends outside it is its own cost. botocore's event hooks would miss part
of that: the client does about 50 µs of its own work before its first event and after its last.

The methods may run on several threads at once (the local stack's API and stream handlers share one
client), so updates take a lock.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallCounter:
    calls: int = 0
    seconds: float = 0.0
    operations: list[str] = field(default_factory=list)
    threads: Counter[str] = field(default_factory=Counter)
    """Calls by calling thread, named without a pool's `_<n>` suffix (`lambda-api_3` is `lambda-api`)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, client: Any) -> None:
        """Time every API method of `client` (an instance attribute shadows the class's method)."""
        for method, operation in client.meta.method_to_api_mapping.items():
            setattr(client, method, self._timed(getattr(client, method), operation))

    def _timed(self, call: Callable[..., Any], operation: str) -> Callable[..., Any]:
        @functools.wraps(call)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self._record(operation, time.perf_counter() - started)

        return timed

    def _record(self, operation: str, seconds: float) -> None:
        thread = threading.current_thread().name
        pool, underscore, number = thread.rpartition("_")
        with self._lock:
            self.calls += 1
            self.seconds += seconds
            self.operations.append(operation)
            self.threads[pool if underscore and number.isdigit() else thread] += 1

    def reset(self) -> None:
        with self._lock:
            self.calls = 0
            self.seconds = 0.0
            self.operations.clear()
            self.threads.clear()
