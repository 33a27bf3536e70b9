"""The scheduler's core: evaluate one dag run and move what is ready.

`schedule_run` is idempotent and safe to run concurrently: it reads the run and its TIs with one
strongly consistent Query, decides in memory (trigger rules, in topological order so that skips
and upstream failures propagate in one pass), and applies each decision as a conditional write on
the state it read. A TI whose state moved meanwhile is simply left to whoever moved it, so a
duplicated stream record, a retried batch or the fast path racing the stream handler can never
queue a task twice. Messages are sent after the write; a lost send is repaired by the timer's
queued-too-long sweep.

`finish_and_schedule` is the fast path of `/state`: the same decisions, written in ONE transaction
with the TI's own transition and conditioned on every state they read, so the transition and all
it caused happen together or not at all. Its write carries a fresh `fast_path` token, which tells
the stream handler that this record needs no evaluation (`scheduler.stream`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from uuid6 import uuid7

from slipstream.auth.tokens import TIKey
from slipstream.core.logging import logger
from slipstream.services import dispatch, queueing
from slipstream.services.run_snapshots import Snapshot, snapshots
from slipstream.services.trigger_rules import TERMINAL, UpstreamStates, decide
from slipstream.store import keys
from slipstream.store.codec import Item, fmt_time, parse_time, shifted, utcnow
from slipstream.store.dag_runs import (
    DagRuns,
    new_task_instance,
    queue_action,
    queued_fields,
    run_item,
    started_index,
    state_is,
    wire_dag_run,
)
from slipstream.store.dags import DagNotFound, Dags
from slipstream.store.errors import AlreadyExists
from slipstream.store.table import (
    ConditionFailed,
    Conflicted,
    Table,
    TransactionCancelled,
    check_action,
    put_action,
    update_action,
)
from slipstream.store.table import values as _values
from slipstream.store.task_instances import TaskInstances, transition_action

DEFAULT_RETRY_DELAY = 300.0
DEFAULT_MAX_RETRY_DELAY = 24 * 3600.0
DEFAULT_MAX_ACTIVE_TASKS = 16
ACTIVE_TI_STATES = frozenset({"queued", "running", "restarting"})
FAILED_STATES = frozenset({"failed", "upstream_failed"})
FAST_PATH = "fast_path"
"""TI attribute: a fresh token on each transition whose consequences were written with it."""
TRANSACTION_LIMIT = 100


@dataclass
class Outcome:
    queued: list[str] = field(default_factory=list)
    settled: dict[str, str] = field(default_factory=dict)
    run_state: str | None = None
    states: dict[str, str | None] = field(default_factory=dict)


def task_of(ti: Item) -> dict[str, Any]:
    task: dict[str, Any] = json.loads(ti.get("task") or "{}")
    return task


def retry_delay(task: dict[str, Any], ti: Item) -> float:
    """Seconds between this try's end and the next try, as Airflow computes it (without jitter):
    the override a task sent with its retry, else retry_delay, doubled per try with
    retry_exponential_backoff, capped by max_retry_delay."""
    override = ti.get("retry_delay_override")
    if override is not None:
        return float(override)
    configured = task.get("retry_delay")
    delay = float(configured) if configured is not None else DEFAULT_RETRY_DELAY
    if task.get("retry_exponential_backoff"):
        delay *= 2 ** max(0, int(ti.get("try_number", 1)) - 1)
    cap = task.get("max_retry_delay")
    return min(delay, float(cap) if cap is not None else DEFAULT_MAX_RETRY_DELAY)


def _topological(tis: list[Item]) -> list[Item]:
    by_task = {ti["task_id"]: ti for ti in tis}
    ordered: list[Item] = []
    seen: set[str] = set()

    def visit(task_id: str, path: frozenset[str]) -> None:
        if task_id in seen or task_id in path or task_id not in by_task:
            return
        for upstream in task_of(by_task[task_id]).get("upstream", []):
            visit(upstream, path | {task_id})
        seen.add(task_id)
        ordered.append(by_task[task_id])

    for task_id in sorted(by_task):
        visit(task_id, frozenset())
    return ordered


@dataclass
class Move:
    """One decision as the conditional writes that make it, and the workload to send after them."""

    task_id: str
    target: str
    """The TI's state once the move is written."""
    actions: list[dict[str, Any]]
    after: Item
    """The TI as the move leaves it, as far as planning reads it (id, state, try)."""
    message: dict[str, Any] | None = None
    delay: float = 0.0

    def send(self) -> None:
        if self.message is not None:
            dispatch.send_or_resend_soon(self.message, delay_seconds=int(max(0.0, self.delay)))


def _write_now(table: Table, move: Move) -> bool:
    """A move as requests of its own, sent at once; False if another writer got there first."""
    try:
        if len(move.actions) == 1:
            table.apply(move.actions[0])
        else:
            table.transact(move.actions)
    except (ConditionFailed, TransactionCancelled):
        return False
    move.send()
    return True


def schedule_run(dag_id: str, run_id: str, *, now: datetime | None = None) -> Outcome:
    now = now or utcnow()
    runs = DagRuns()
    run, tis = runs.with_task_instances(dag_id, run_id)
    if run is None:
        return Outcome()
    if run["state"] == "queued" and tis and not _start_run(runs, run):
        return Outcome(run_state="queued")
    if run["state"] != "running":
        return Outcome(run_state=run["state"])
    outcome = _evaluate(run, tis, now, lambda move: _write_now(runs.table, move))
    if outcome.run_state == "finished":
        outcome.run_state = _finish_run(runs, run, tis, outcome.states)
    return outcome


def _evaluate(run: Item, tis: list[Item], now: datetime, write: Callable[[Move], bool]) -> Outcome:
    """Decide every move the run's TIs call for, in topological order, handing each to `write`;
    a move `write` refuses (the TI moved meanwhile) leaves the TI's state as read. `run_state`
    is "finished" when every TI has settled (the caller ends the run)."""
    outcome = Outcome()
    states = {ti["task_id"]: ti.get("state") for ti in tis}
    limit = int(run.get("max_active_tasks") or DEFAULT_MAX_ACTIVE_TASKS)
    active = sum(1 for s in states.values() if s in ACTIVE_TI_STATES)
    for ti in _topological(tis):
        task = task_of(ti)
        state = states[ti["task_id"]]
        upstream_ids = [u for u in task.get("upstream", []) if u in states]
        move: Move | None = None
        if state in (None, "scheduled", "restarting"):
            upstream = UpstreamStates.of(states.get(u) for u in upstream_ids)
            decision = (
                "run"
                if state == "restarting"
                else decide(task.get("trigger_rule") or "all_success", upstream)
            )
            if decision == "run" and active < limit:
                move = _queue_move(ti, run, delay=0)
            elif decision in ("skipped", "upstream_failed"):
                move = _settle_move(ti, decision, now)
        elif state in ("up_for_retry", "up_for_reschedule") and active < limit:
            wait = (_due(ti, task, state) - now).total_seconds()
            if wait <= dispatch.MAX_DELAY_SECONDS:
                move = _retry_move(ti, run, wait) if state == "up_for_retry" else _queue_move(ti, run, wait)
        if move is None or not write(move):
            continue
        states[ti["task_id"]] = move.target
        if move.target == "queued":
            outcome.queued.append(ti["task_id"])
            active += 1
        else:
            outcome.settled[ti["task_id"]] = move.target
    outcome.states = states
    settled = bool(tis) and all(s in TERMINAL for s in states.values())
    outcome.run_state = "finished" if settled else "running"
    return outcome


def _planned(run: Item, tis: list[Item], now: datetime) -> tuple[Outcome, list[Move]]:
    """The moves `_evaluate` decides, gathered for one transaction instead of written."""
    moves: list[Move] = []

    def gather(move: Move) -> bool:
        moves.append(move)
        return True

    return _evaluate(run, tis, now, gather), moves


SNAPSHOT_ATTEMPTS = 2
"""Transactions planned from this instance's snapshot of a run before it reads the run."""


@dataclass
class _Stale:
    """The snapshot could not plan, or a condition its plan relied on no longer holds; `patched`
    is the snapshot brought up to date by the items the refusal returned, when it can be."""

    patched: Snapshot | None = None


def finish_and_schedule(
    tis: TaskInstances,
    key: TIKey,
    ti_id: str,
    state: str,
    fields: dict[str, Any],
    along: list[dict[str, Any]],
) -> bool | None:
    """`/state`'s fast path: the TI's transition, what it makes ready and the end of the run if
    it was the last, in one transaction. True if written; False for a replay (already `state`);
    None when one transaction cannot do it (the TI or run not as expected, a move on the TI
    itself, fail_fast, too many writes, a concurrent writer): the caller writes the transition
    alone and leaves the rest to `schedule_run` and the stream.

    The plan comes from this instance's snapshot of the run when it has one (`run_snapshots`: no
    read, so one round trip), else from a strongly consistent Query. A snapshot's plan that a
    condition refuses is planned again from the items the refusal returned, then from a read.
    """
    known = snapshots.get(key.dag_id, key.run_id)
    for _attempt in range(SNAPSHOT_ATTEMPTS):
        if known is None:
            break
        outcome = _finish_from(tis, key, ti_id, state, fields, along, known, remembered=True)
        if not isinstance(outcome, _Stale):
            return outcome
        known = outcome.patched
    snapshots.forget(key.dag_id, key.run_id)  # kept again only if the plan below is written
    run, items = DagRuns(tis.table).with_task_instances(key.dag_id, key.run_id)
    if run is None:
        return None
    outcome = _finish_from(tis, key, ti_id, state, fields, along, (run, items), remembered=False)
    return None if isinstance(outcome, _Stale) else outcome


def _finish_from(
    tis: TaskInstances,
    key: TIKey,
    ti_id: str,
    state: str,
    fields: dict[str, Any],
    along: list[dict[str, Any]],
    known: Snapshot,
    *,
    remembered: bool,
) -> bool | _Stale | None:
    """`finish_and_schedule` planned from `known`: the run as read just now, or as `remembered`
    by this instance (then every state the plan reads is a guess the transaction checks)."""
    run, items = known
    me = next(
        (i for i in items if i["task_id"] == key.task_id and int(i.get("map_index", -1)) == key.map_index),
        None,
    )
    limit = int(run.get("max_active_tasks") or DEFAULT_MAX_ACTIVE_TASKS)
    if remembered and (
        len(items) > limit or run.get("state") != "running" or me is None or me.get("id") != ti_id
    ):
        # A remembered count of active TIs could be short (no condition holds it), and a TI id
        # that moved on means the snapshot missed a retry or a clear.
        return _Stale()
    if run.get("state") != "running" or me is None or me.get("id") != ti_id:
        return None
    if (me.get("state") != "running" and not remembered) or (state == "failed" and me.get("fail_fast")):
        return None  # a remembered TI may not know its own start: the transition's condition does
    now = utcnow()
    moved = {k: v for k, v in {**me, **fields, "state": state}.items() if v is not None}
    after = [moved if i is me else i for i in items]
    outcome, moves = _planned(run, after, now)
    if any(m.task_id == key.task_id for m in moves):
        return None
    written = {key.task_id, *(m.task_id for m in moves)}
    # Every decision this transition could change read the states of the tasks downstream of
    # what it wrote and of their other upstream tasks: they must still be as read at commit.
    by_task = {i["task_id"]: i for i in after}
    decided = [i for i in after if written & set(task_of(i).get("upstream", []))]
    read = {i["task_id"] for i in decided} | {u for i in decided for u in task_of(i).get("upstream", [])}
    final = _final_state(run, after, outcome.states) if outcome.run_state == "finished" else None
    unsettled = sorted(t for t, s in outcome.states.items() if s not in TERMINAL and t not in written)
    if final is not None:
        read = set(by_task)  # the run's end read every TI's state
    elif unsettled and not read & set(unsettled):
        # "the run goes on" read that task unsettled: were it to settle first, its own
        # transition would have seen this one running, and nobody would end the run
        read.add(unsettled[0])
    actions = [
        transition_action(key, ti_id, state, {**fields, FAST_PATH: str(uuid7())}),
        *along,
        *(a for m in moves for a in m.actions),
        *(_unchanged(by_task[t]) for t in sorted(read - written) if t in by_task),
    ]
    if final is not None:
        actions += _finish_actions(run, final)
    elif remembered and any(m.target == "queued" for m in moves):
        actions.append(_still_running(run))  # the TIs it queues carry this run's snapshot
    if len(actions) > TRANSACTION_LIMIT:
        return None
    try:
        tis.table.transact(actions)
    except TransactionCancelled as refused:
        if refused.failed[0]:
            tis.explain_refusal(refused.items[0], ti_id, state)
            return False
        return _Stale(_patched(known, refused)) if remembered else None
    except Conflicted:
        return _Stale() if remembered else None
    if final is None:
        now_known = {moved["SK"]: moved, **{m.after["SK"]: m.after for m in moves}}
        snapshots.put(run, [now_known.get(i["SK"], i) for i in items])
    else:
        snapshots.forget(key.dag_id, key.run_id)
    try:  # written: a lost message is the timer's to resend, a waiting run its to start
        for m in moves:
            m.send()
        if final is not None:
            _run_finished(run, final)
    except Exception:
        logger.exception("fast path: follow-up after the transaction failed", extra={"ti_id": ti_id})
    return True


def _patched(known: Snapshot, refused: TransactionCancelled) -> Snapshot | None:
    """`known` with the current items of the actions refused, or None if one came back empty."""
    current = [item for item, failed in zip(refused.items, refused.failed, strict=True) if failed]
    if any(item is None for item in current):
        return None
    by_sk = {item["SK"]: item for item in current if item is not None}
    run, items = known
    return by_sk.get(run["SK"], run), [by_sk.get(i["SK"], i) for i in items]


def _still_running(run: Item) -> dict[str, Any]:
    """A condition that the run is running and was not cleared since `run` was read."""
    return check_action(
        run["PK"],
        run["SK"],
        "#state = :running AND clear_number = :clears",
        names={"#state": "state"},
        values=_values(running="running", clears=int(run["clear_number"])),
    )


def _unchanged(ti: Item) -> dict[str, Any]:
    """A condition that a TI a decision read is still as it was read (same try, same state)."""
    vals: dict[str, Any] = {"id": ti["id"]}
    condition = "#id = :id AND " + state_is(ti, vals)
    return check_action(
        ti["PK"], ti["SK"], condition, names={"#id": "id", "#state": "state"}, values=_values(**vals)
    )


def _due(ti: Item, task: dict[str, Any], state: str) -> datetime:
    if state == "up_for_reschedule":
        return parse_time(ti.get("reschedule_date")) or utcnow()
    ended = parse_time(ti.get("end_date")) or utcnow()
    return shifted(ended, timedelta(seconds=retry_delay(task, ti)))


def _queue_move(ti: Item, run: Item, delay: float) -> Move:
    bump = 0 if ti.get("state") == "up_for_reschedule" else 1
    try_number = int(ti.get("try_number", 0)) + bump
    message = queueing.workload(ti, run, try_number)
    after = {**ti, "state": "queued", "try_number": try_number}
    return Move(ti["task_id"], "queued", [queue_action(ti, run, delay)], after, message, delay)


RETRY_CLEARS = (
    "hostname",
    "pid",
    "unixname",
    "start_date",
    "end_date",
    "retry_delay_override",
    "retry_reason",
    "last_heartbeat_at",
)
"""What the previous try leaves on a TI that its next try must not inherit."""


def _retry_move(ti: Item, run: Item, delay: float) -> Move:
    """Archive the finished try under its id, give the live TI a new id and queue the next try."""
    new_id = str(uuid7())
    now = utcnow()
    visible = now + timedelta(seconds=max(0.0, delay))
    history = {k: v for k, v in ti.items() if k not in ("GSI2PK", "GSI2SK", "dag_run", FAST_PATH)}
    history["SK"] = keys.try_sk(ti["task_id"], int(ti.get("map_index", -1)), int(ti.get("try_number", 0)))
    snapshot = json.dumps(wire_dag_run(run), separators=(",", ":"))
    live = update_action(
        ti["PK"],
        ti["SK"],
        "SET #id = :new, #state = :queued, dag_run = :snapshot, queued_at = :now, GSI2PK = :status,"
        " GSI2SK = :visible, try_number = try_number + :one REMOVE " + ", ".join(RETRY_CLEARS),
        "#id = :old AND #state = :retry",
        names={"#id": "id", "#state": "state"},
        values=_values(
            new=new_id,
            old=ti["id"],
            queued="queued",
            retry="up_for_retry",
            snapshot=snapshot,
            now=fmt_time(now),
            visible=fmt_time(visible),
            one=1,
            status=keys.status_pk("queued"),
        ),
    )
    try_number = int(ti.get("try_number", 0)) + 1
    message = queueing.workload({**ti, "id": new_id}, run, try_number)
    after = {k: v for k, v in ti.items() if k not in RETRY_CLEARS}
    after.update(id=new_id, state="queued", try_number=try_number)
    actions = [put_action(history, "attribute_not_exists(PK)"), live]
    return Move(ti["task_id"], "queued", actions, after, message, delay)


def _settle_move(ti: Item, state: str, now: datetime) -> Move:
    """None -> skipped / upstream_failed without running (conditional on the state read)."""
    vals: dict[str, Any] = {"target": state, "now": fmt_time(now), "id": ti["id"]}
    condition = "#id = :id AND " + state_is(ti, vals)
    action = update_action(
        ti["PK"],
        ti["SK"],
        "SET #state = :target, start_date = :now, end_date = :now",
        condition,
        names={"#state": "state", "#id": "id"},
        values=_values(**vals),
    )
    after = {**ti, "state": state, "start_date": vals["now"], "end_date": vals["now"]}
    return Move(ti["task_id"], state, [action], after)


def _target(action: dict[str, Any]) -> tuple[str, str]:
    """The (PK, SK) a transaction action writes."""
    ((_, body),) = action.items()
    key = body.get("Key") or body["Item"]
    return key["PK"]["S"], key["SK"]["S"]


def _slot_action(run: Item, limit: int) -> dict[str, Any]:
    """Take one of the DAG's max_active_runs slots (a set of run ids on the DAG item), if the DAG
    is not paused, its limit is still the `limit` read (`run_limit_of`: an item registered before
    it kept the limit as an attribute has it in its document), and a slot is free under it. A
    limit changed meanwhile refuses the move; the DAG item's stream record of that change starts
    the waiting runs again (`scheduler.stream`)."""
    return update_action(
        keys.dag_pk(run["dag_id"]),
        keys.DAG_SK,
        "ADD active_runs :run",
        "attribute_exists(PK) AND is_paused = :false"
        " AND (max_active_runs = :limit OR attribute_not_exists(max_active_runs))"
        " AND (attribute_not_exists(active_runs) OR size(active_runs) < :limit"
        " OR contains(active_runs, :run_id))",
        values=_values(run={run["run_id"]}, false=False, limit=limit, run_id=run["run_id"]),
    )


def _start_run(runs: DagRuns, run: Item) -> bool:
    """queued -> running, if the DAG is not paused and has a free max_active_runs slot: the slot
    and the run's state move in one transaction, against the DAG's limit as it is now."""
    try:
        limit = Dags().run_limit(run["dag_id"])
    except DagNotFound:
        return False
    now = utcnow()
    index = started_index(run, now)
    sets = "SET #state = :running, start_date = :now"
    vals: dict[str, Any] = {"running": "running", "queued": "queued", "now": fmt_time(now)}
    if index["GSI2PK"] is None:
        update = sets + " REMOVE GSI2PK, GSI2SK"
    else:  # the timer's sweep finds it by its deadline
        update = sets + ", GSI2PK = :deadlines, GSI2SK = :deadline"
        vals.update(deadlines=index["GSI2PK"], deadline=index["GSI2SK"])
    start = update_action(
        run["PK"], run["SK"], update, "#state = :queued", names={"#state": "state"}, values=_values(**vals)
    )
    try:
        runs.table.transact([_slot_action(run, limit), start])
    except TransactionCancelled:
        return False
    run.update(state="running", start_date=vals["now"])
    return True


def start_new_run(
    runs: DagRuns, run: Item, tasks: list[dict[str, Any]], extra_actions: list[dict[str, Any]], limit: int
) -> Item | None:
    """Create a run already running, its ready tasks already queued, in one transaction with
    its max_active_runs slot (`limit`: the DAG item's, as read); then send their messages. None
    when that cannot be done (no free slot, a paused DAG, a first decision that is not to queue,
    more than one transaction): the caller creates the run queued and the scheduler starts it.
    Raises AlreadyExists."""
    now = utcnow()
    item = run_item({**run, "state": "running", "start_date": fmt_time(now)})
    tis = [new_task_instance(item, task) for task in tasks]
    slot = _slot_action(item, limit)
    if any(_target(action) == _target(slot) for action in extra_actions):
        return None  # one transaction writes an item once (asset triggers move the DAG's watermark)
    _, moves = _planned(item, tis, now)
    if (
        any(move.target != "queued" for move in moves)
        or 2 + len(extra_actions) + len(tis) > TRANSACTION_LIMIT
    ):
        return None
    queued = {move.task_id for move in moves}
    written = [{**ti, **queued_fields(ti, item)} if ti["task_id"] in queued else ti for ti in tis]
    try:
        runs.table.transact(
            [
                put_action(item, "attribute_not_exists(PK)"),
                slot,
                *extra_actions,
                *(put_action(ti, "attribute_not_exists(PK)") for ti in written),
            ]
        )
    except TransactionCancelled as refused:
        if refused.failed[0]:
            raise AlreadyExists(
                f"A run already exists for Dag '{run['dag_id']}' with run_id '{run['run_id']}'"
            ) from None
        return None
    snapshots.put(item, written)
    try:  # written: a lost message is the timer's to resend
        for move in moves:
            move.send()
    except Exception:
        logger.exception("could not send a new run's first messages", extra={"run_id": run["run_id"]})
    return item


def _final_state(run: Item, tis: list[Item], states: dict[str, str | None]) -> str:
    """success or failed, as Airflow decides it once every TI settled: failed if a leaf task
    failed (or, under fail_fast, any task did)."""
    downstream = {u for ti in tis for u in task_of(ti).get("upstream", [])}
    leaves = [t for t in states if t not in downstream]
    failed = any(states[t] in FAILED_STATES for t in leaves) or (
        bool(run.get("fail_fast")) and any(s == "failed" for s in states.values())
    )
    return "failed" if failed else "success"


def _finish_actions(run: Item, final: str) -> list[dict[str, Any]]:
    """The run ends (out of the timer's deadline index) and gives its max_active_runs slot back."""
    end = update_action(
        run["PK"],
        run["SK"],
        "SET #state = :final, end_date = :now REMOVE GSI2PK, GSI2SK",
        "#state = :running",
        names={"#state": "state"},
        values=_values(final=final, running="running", now=fmt_time(utcnow())),
    )
    return [end, release_slot_action(run["dag_id"], run["run_id"])]


def _finish_run(runs: DagRuns, run: Item, tis: list[Item], states: dict[str, str | None]) -> str:
    final = _final_state(run, tis, states)
    try:
        runs.table.transact(_finish_actions(run, final))
    except TransactionCancelled:
        return str(runs.get(run["dag_id"], run["run_id"])["state"])
    _run_finished(run, final)
    return final


def _run_finished(run: Item, final: str) -> None:
    """The run's end gave its slot back in the same transaction; the DAG item's stream record
    starts a run waiting for it (`start_waiting_runs`), so the request that ended the run, often
    a task's `/state`, does not pay for looking one up."""
    logger.info("dag run finished", extra={"dag_id": run["dag_id"], "run_id": run["run_id"], "state": final})


def release_slot_action(dag_id: str, run_id: str) -> dict[str, Any]:
    """Take a run out of its DAG's max_active_runs slots (a no-op if it holds none)."""
    return update_action(
        keys.dag_pk(dag_id),
        keys.DAG_SK,
        "DELETE active_runs :run",
        "attribute_exists(PK)",
        values=_values(run={run_id}),
    )


def start_waiting_runs(dag_id: str, waiting: list[str] | None = None) -> None:
    """A slot was freed (or the DAG unpaused): start the DAG's waiting runs (`waiting`, if the
    caller read them), oldest first, until one finds no free slot."""
    for run_id in DagRuns().waiting(dag_id) if waiting is None else waiting:
        if schedule_run(dag_id, run_id).run_state == "queued":
            return


def start_in_turn(dag_id: str, run_id: str) -> None:
    """A run was created or cleared to wait for a slot: the DAG's waiting runs start in order,
    so that it cannot take the slot of an older one. A run not among them was started meanwhile
    (perhaps by an attempt that failed halfway) or is not in the eventually consistent index
    yet: it is evaluated (and started, if a slot is free) on its own."""
    waiting = DagRuns().waiting(dag_id)
    if run_id in waiting:
        start_waiting_runs(dag_id, waiting)
    else:
        schedule_run(dag_id, run_id)
