"""What this API instance last knew of a run: its item and its TIs, as read or written here.

`/state`'s fast path plans from a snapshot instead of reading the run again, which makes a
task's end one DynamoDB round trip. A snapshot is only a guess: the transaction it leads to is
conditioned on every state the plan read (`scheduling.finish_and_schedule`), so a stale one
costs a refused transaction, never a wrong move. The trigger records a run's first snapshot and
each fast-path transaction its own writes, so an instance that serves a run's requests keeps
planning without reads; another instance reads the run once and goes on from there.

Per process and bounded (least recently used first out, `SLIPSTREAM_RUN_SNAPSHOTS` runs). A
Lambda instance serves one request at a time; the local stack's threads share the lock.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

from slipstream.core.settings import get_settings
from slipstream.store.codec import Item

Snapshot = tuple[Item, list[Item]]
"""The run item and its TI items."""


class RunSnapshots:
    def __init__(self) -> None:
        self._runs: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
        self._lock = Lock()

    def get(self, dag_id: str, run_id: str) -> Snapshot | None:
        """A copy of the run's snapshot (the caller may change it), or None."""
        with self._lock:
            known = self._runs.get((dag_id, run_id))
            if known is None:
                return None
            self._runs.move_to_end((dag_id, run_id))
            run, tis = known
            return dict(run), [dict(ti) for ti in tis]

    def put(self, run: Item, tis: list[Item]) -> None:
        size = get_settings().run_snapshots
        if size <= 0:
            return
        with self._lock:
            key = (run["dag_id"], run["run_id"])
            self._runs[key] = (dict(run), [dict(ti) for ti in tis])
            self._runs.move_to_end(key)
            while len(self._runs) > size:
                self._runs.popitem(last=False)

    def forget(self, dag_id: str, run_id: str) -> None:
        with self._lock:
            self._runs.pop((dag_id, run_id), None)

    def clear(self) -> None:
        with self._lock:
            self._runs.clear()


snapshots = RunSnapshots()
