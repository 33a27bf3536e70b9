"""Every try of one task instance: the archived ones and the live one.

When a retry gives the live TI a new id, the scheduler archives the finished try in the run's
partition under `TRY#<task>#<map_index>#<try_number>`. Until then the live TI is the only record
of its latest try, so it is listed unless an archived copy of the same try exists (Airflow leaves
out a live TI in `up_for_retry` for the same reason).
"""

from __future__ import annotations

from slipstream.auth.tokens import TIKey
from slipstream.store import keys
from slipstream.store.codec import Item
from slipstream.store.errors import TaskInstanceNotFound
from slipstream.store.task_instances import TaskInstances

MAX_TRY = 99999
"""The largest try number `keys.try_sk` can encode (five digits)."""


def tries(key: TIKey) -> list[Item]:
    store = TaskInstances()
    live = store.get(key)
    if live is None:
        raise TaskInstanceNotFound
    archived = store.table.query(
        keys.run_pk(key.dag_id, key.run_id),
        between=(
            keys.try_sk(key.task_id, key.map_index, 0),
            keys.try_sk(key.task_id, key.map_index, MAX_TRY),
        ),
    )
    numbers = {int(item.get("try_number", 0)) for item in archived}
    if int(live.get("try_number", 0)) not in numbers:
        archived.append(live)
    return sorted(archived, key=lambda item: int(item.get("try_number", 0)))
