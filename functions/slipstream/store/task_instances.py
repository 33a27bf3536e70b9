"""Task-instance lifecycle in DynamoDB: every transition is one conditional write.

The live TI item sits at `(RUN#<dag>#<run>, RUN#TI#<task>#<map_index>)` and is addressed through
the signed natural key in the caller's token, so `/run`, heartbeat and `/state` are each a single
`UpdateItem` whose condition decides the transition. When the condition fails DynamoDB hands back
the item as it stood (`ReturnValuesOnConditionCheckFailure`), and that one answer is enough to say
404, 409 `invalid_state`, 409 `running_elsewhere` or "already done" (idempotent replay) without a
second read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slipstream.auth.tokens import TIKey
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, utcnow
from slipstream.store.errors import (
    InvalidTransition,
    NotRunning,
    RunningElsewhere,
    TaskInstanceMoved,
    TaskInstanceNotFound,
)
from slipstream.store.table import (
    ConditionFailed,
    Table,
    TransactionCancelled,
    check_action,
    put_action,
    update_action,
)
from slipstream.store.table import values as _values

TERMINAL_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
INDEXED_STATES = frozenset(
    {"queued", "running", "restarting", "up_for_retry", "up_for_reschedule", "deferred", "awaiting_input"}
)


def status_index(state: str | None, since: str) -> dict[str, str | None]:
    """GSI2 attributes for a TI entering `state`: waiting states are indexed by the time they
    started waiting (the timer's sweeps read them); any other state leaves the index."""
    if state in INDEXED_STATES:
        return {"GSI2PK": keys.status_pk(state), "GSI2SK": since}
    return {"GSI2PK": None, "GSI2SK": None}


STARTABLE_STATES = ("queued", "restarting")
RETRY_REASON_LIMIT = 500
RETRY_DELAY_LIMIT = 10**12
"""The longest retry delay a task may ask for, in seconds (about 31,700 years); a longer one is
held at it: Python's `timedelta` and DynamoDB's numbers hold no more."""

NAMES = {"#state": "state", "#id": "id"}
FINISH_CONDITION = "#id = :id AND #state = :running"


def _transition(
    ti_id: str, state: str, fields: dict[str, Any], since: str | None
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The update expression, names and values of running -> `state` (under FINISH_CONDITION);
    a None field is removed."""
    names = dict(NAMES)
    vals: dict[str, Any] = {"id": ti_id, "running": "running", "target": state}
    sets = ["#state = :target"]
    removes = []
    fields = {**status_index(state, since or fmt_time(utcnow())), **fields}
    for i, (name, value) in enumerate(fields.items()):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :f{i}")
            vals[f"f{i}"] = value
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    return update, names, vals


def transition_action(
    key: TIKey,
    ti_id: str,
    state: str,
    fields: dict[str, Any],
    *,
    since: str | None = None,
    count: str | None = None,
) -> dict[str, Any]:
    """running -> `state` as a transaction action; `count` names a counter to increment."""
    update, names, vals = _transition(ti_id, state, fields, since or fields.get("end_date"))
    if count:
        update += f" ADD {count} :one"
        vals["one"] = 1
    return update_action(*_ti_pk_sk(key), update, FINISH_CONDITION, names=names, values=_values(**vals))


@dataclass(frozen=True)
class Started:
    """Outcome of `/run`: the TI as it is now running, and what the run context needs."""

    ti: Item
    previous_state: str | None
    should_retry: bool
    xcom_keys_to_clear: list[str]


def _ti_pk_sk(key: TIKey) -> tuple[str, str]:
    return keys.run_pk(key.dag_id, key.run_id), keys.ti_sk(key.task_id, key.map_index)


def _same_ti(item: Item | None, ti_id: str) -> bool:
    return item is not None and item.get("id") == ti_id


class TaskInstances:
    def __init__(self, table: Table | None = None) -> None:
        self.table = table or Table()

    def get(self, key: TIKey) -> Item | None:
        return self.table.get(*_ti_pk_sk(key))

    def get_by_id(self, key: TIKey, ti_id: str) -> Item:
        item = self.get(key)
        if not _same_ti(item, ti_id):
            raise TaskInstanceNotFound
        assert item is not None
        return item

    # -- /run -------------------------------------------------------------------------------
    def start(
        self, key: TIKey, ti_id: str, *, hostname: str, unixname: str, pid: int, start_date: datetime
    ) -> Started:
        """queued|restarting -> running, or an idempotent replay of the same start."""
        now = fmt_time(utcnow())
        try:
            old = self.table.update(
                *_ti_pk_sk(key),
                "SET #state = :running, hostname = :h, unixname = :u, pid = :p,"
                " start_date = if_not_exists(resume_start_date, :sd), last_heartbeat_at = :now,"
                " GSI2PK = :status, GSI2SK = :now"
                " REMOVE end_date, retry_delay_override, retry_reason, resume_start_date",
                condition="#id = :id AND (#state IN (:queued, :restarting)"
                " OR (#state = :running AND hostname = :h AND unixname = :u AND pid = :p))",
                names=NAMES,
                values=_values(
                    id=ti_id,
                    running="running",
                    queued="queued",
                    restarting="restarting",
                    h=hostname,
                    u=unixname,
                    p=pid,
                    sd=fmt_time(start_date),
                    now=now,
                    status=keys.status_pk("running"),
                ),
                returns="ALL_OLD",
            )
        except ConditionFailed as refused:
            if not _same_ti(refused.item, ti_id):
                raise TaskInstanceNotFound from None
            assert refused.item is not None
            raise InvalidTransition(
                "TI was not in a state where it could be marked as running",
                previous_state=refused.item.get("state"),
            ) from None
        assert old is not None
        previous = old.get("state")
        ti = {
            **old,
            "state": "running",
            "hostname": hostname,
            "unixname": unixname,
            "pid": pid,
            "start_date": old.get("resume_start_date") or fmt_time(start_date),
            "last_heartbeat_at": now,
        }
        for gone in ("end_date", "retry_delay_override", "retry_reason", "resume_start_date"):
            ti.pop(gone, None)
        max_tries = int(old.get("max_tries", 0))
        should_retry = previous == "restarting" or (max_tries != 0 and int(old["try_number"]) <= max_tries)
        return Started(
            ti=ti,
            previous_state=previous,
            should_retry=should_retry,
            xcom_keys_to_clear=self._stale_xcom_keys(key, old),
        )

    def _stale_xcom_keys(self, key: TIKey, ti: Item) -> list[str]:
        """XComs left by an earlier try. A first try that was never cleared has none to clear,
        and resuming a deferred task keeps its XComs: both skip the query."""
        if ti.get("next_method") or (int(ti.get("try_number", 1)) <= 1 and not ti.get("cleared")):
            return []
        items = self.table.query(
            keys.run_pk(key.dag_id, key.run_id),
            prefix=keys.xcom_task_prefix(key.task_id),
            projection="#k, map_index",
            names={"#k": "key"},
        )
        found = {
            str(i["key"]) for i in items if key.map_index < 0 or int(i.get("map_index", -1)) == key.map_index
        }
        return sorted(found)

    # -- heartbeat --------------------------------------------------------------------------
    def heartbeat(self, key: TIKey, ti_id: str, *, hostname: str, pid: int) -> None:
        try:
            self.table.update(
                *_ti_pk_sk(key),
                "SET last_heartbeat_at = :now",
                condition="#id = :id AND #state = :running AND hostname = :h AND pid = :p",
                names=NAMES,
                values=_values(id=ti_id, running="running", h=hostname, p=pid, now=fmt_time(utcnow())),
            )
        except ConditionFailed as refused:
            item = refused.item
            if item is None:
                raise TaskInstanceNotFound from None
            if item.get("id") != ti_id:
                raise TaskInstanceMoved from None
            if item.get("hostname") != hostname or item.get("pid") != pid:
                raise RunningElsewhere(item.get("hostname"), item.get("pid")) from None
            raise NotRunning(item.get("state")) from None

    # -- /state -----------------------------------------------------------------------------
    def finish(self, key: TIKey, ti_id: str, state: str, fields: dict[str, Any]) -> Item | None:
        """running -> `state`, setting `fields` (already in storage form).

        Returns the TI as it is now, or None when the TI already was in `state` (a replayed
        request: nothing is changed, the caller answers 200).
        """
        update, names, vals = _transition(ti_id, state, fields, fields.get("end_date"))
        try:
            return self.table.update(
                *_ti_pk_sk(key),
                update,
                condition=FINISH_CONDITION,
                names=names,
                values=_values(**vals),
                returns="ALL_NEW",
            )
        except ConditionFailed as refused:
            return self.explain_refusal(refused.item, ti_id, state)

    def finish_with(
        self,
        key: TIKey,
        ti_id: str,
        state: str,
        fields: dict[str, Any],
        along: Sequence[dict[str, Any]],
        *,
        since: str | None = None,
        count: str | None = None,
    ) -> bool:
        """`finish`, with writes that must not happen without the transition nor it without them
        (a reschedule row, asset events): one transaction, the TI's update first. `count` names
        a counter of the TI to increment. Returns False for an idempotent replay.

        Beyond the 100 writes of a transaction, the writes that do not fit go first, in their
        own transactions, each checking that the TI is still running under this id: a refused or
        replayed request writes none of them, but a fault between them and the transition can
        make a retry repeat them.
        """
        transition = transition_action(key, ti_id, state, fields, since=since, count=count)
        ahead, last = along[: max(0, len(along) - 99)], along[max(0, len(along) - 99) :]
        running = check_action(
            *_ti_pk_sk(key),
            "#id = :id AND #state = :running",
            names=NAMES,
            values=_values(id=ti_id, running="running"),
        )
        for start in range(0, len(ahead), 99):
            try:
                self.table.transact([running, *ahead[start : start + 99]])
            except TransactionCancelled as refused:
                if not refused.failed[0]:
                    raise
                self.explain_refusal(self.get(key), ti_id, state)
                return False
        try:
            self.table.transact([transition, *last])
        except TransactionCancelled as refused:
            self.explain_refusal(refused.items[0], ti_id, state)
            return False
        return True

    def reschedule(self, key: TIKey, ti_id: str, fields: dict[str, Any], row: Item) -> bool:
        """running -> up_for_reschedule, adding the TaskReschedule `row` in the same transaction.
        Returns False for an idempotent replay."""
        return self.finish_with(
            key,
            ti_id,
            "up_for_reschedule",
            fields,
            [put_action(row)],
            since=str(fields["reschedule_date"]),
            count="task_reschedule_count",
        )

    @staticmethod
    def explain_refusal(item: Item | None, ti_id: str, state: str) -> None:
        """Why running -> `state` was refused, from the item as it stood: 404 (another TI id),
        nothing (already in `state`: a replay), else 409."""
        if not _same_ti(item, ti_id):
            raise TaskInstanceNotFound
        assert item is not None
        if item.get("state") == state:
            return
        raise InvalidTransition(
            "TI was not in the running state so it cannot be updated", previous_state=item.get("state")
        )

    # -- other per-TI writes ----------------------------------------------------------------
    def require(self, key: TIKey, ti_id: str) -> dict[str, Any]:
        """A transaction action that holds only while this TI id is the live one."""
        return check_action(*_ti_pk_sk(key), "#id = :id", names={"#id": "id"}, values=_values(id=ti_id))

    def set_rendered_map_index(self, key: TIKey, ti_id: str, value: str) -> None:
        try:
            self.table.update(
                *_ti_pk_sk(key),
                "SET rendered_map_index = :v",
                condition="#id = :id",
                names={"#id": "id"},
                values=_values(id=ti_id, v=value),
            )
        except ConditionFailed:
            raise TaskInstanceNotFound from None

    def resend_due(self, key: TIKey, ti_id: str, visible_at: str) -> bool:
        """Date a queued TI's message as visible at `visible_at` (its GSI2 sort key), from which
        the timer's resend sweep counts; False if the TI is no longer this queued try."""
        try:
            self.table.update(
                *_ti_pk_sk(key),
                "SET GSI2SK = :visible",
                condition="#id = :id AND #state = :queued",
                names=NAMES,
                values=_values(visible=visible_at, id=ti_id, queued="queued"),
            )
        except ConditionFailed:
            return False
        return True

    def list_run(self, dag_id: str, run_id: str) -> list[Item]:
        """Every live TI of a run, strongly consistent."""
        return self.table.query(keys.run_pk(dag_id, run_id), prefix=keys.TI_PREFIX)

    def skip(self, dag_id: str, run_id: str, task_id: str, map_index: int, now: str) -> bool:
        """Skip one TI unless it is running or already finished its work (success, failed)."""
        try:
            self.table.update(
                keys.run_pk(dag_id, run_id),
                keys.ti_sk(task_id, map_index),
                "SET #state = :skipped, start_date = :now, end_date = :now REMOVE GSI2PK, GSI2SK",
                condition="attribute_exists(#id) AND"
                " (attribute_not_exists(#state) OR NOT #state IN (:running, :success, :failed))",
                names=NAMES,
                values=_values(
                    skipped="skipped", running="running", success="success", failed="failed", now=now
                ),
            )
        except ConditionFailed:
            return False
        return True


def json_attr(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
