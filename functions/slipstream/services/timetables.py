"""When a time-scheduled DAG is due: cron expressions and fixed intervals.

Airflow 3's default timetables trigger at each tick (`CronTriggerTimetable`, `DeltaTriggerTimetable`):
the run for tick T has logical date T and a zero-length data interval at T. With catchup, every
tick from start_date on gets a run; without, only the newest tick that has passed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from croniter import croniter

MAX_TICKS_PER_SWEEP = 100
"""Catching up is spread over sweeps so that one timer invocation stays short."""


def _ticks_after(schedule: dict[str, Any], after: datetime, anchor: datetime) -> Iterator[datetime]:
    if "cron" in schedule:
        iterator = croniter(str(schedule["cron"]), after)
        while True:
            yield iterator.get_next(datetime).astimezone(UTC)
    else:
        step = timedelta(seconds=float(schedule["interval_seconds"]))
        elapsed = max(0, int((after - anchor) / step) + 1) if after >= anchor else 0
        tick = anchor + elapsed * step
        while True:
            if tick > after:
                yield tick
            tick += step


def start_date(document: dict[str, Any]) -> datetime | None:
    """The DAG document's start_date (ISO-8601; a naive value is read as UTC)."""
    raw = document.get("start_date")
    if not raw:
        return None
    parsed = datetime.fromisoformat(str(raw))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def is_time_schedule(schedule: Any) -> bool:
    return isinstance(schedule, dict) and ("cron" in schedule or "interval_seconds" in schedule)


def _latest_tick(schedule: dict[str, Any], now: datetime, anchor: datetime) -> datetime | None:
    if "cron" in schedule:
        latest: datetime = croniter(str(schedule["cron"]), now + timedelta(microseconds=1)).get_prev(datetime)
        return latest.astimezone(UTC)
    if now < anchor:
        return None
    step = timedelta(seconds=float(schedule["interval_seconds"]))
    return anchor + int((now - anchor) / step) * step


def due_ticks(
    schedule: dict[str, Any],
    *,
    start_date: datetime,
    last_tick: datetime | None,
    now: datetime,
    catchup: bool,
) -> list[datetime]:
    """Ticks that need a run: after `last_tick` (or from `start_date`) and not after `now`."""
    if not catchup:
        latest = _latest_tick(schedule, now, start_date)
        if latest is None or latest < start_date or (last_tick is not None and latest <= last_tick):
            return []
        return [latest]
    after = last_tick if last_tick is not None else start_date - timedelta(microseconds=1)
    ticks: list[datetime] = []
    for tick in _ticks_after(schedule, after, start_date):
        if tick > now or len(ticks) >= MAX_TICKS_PER_SWEEP:
            break
        if tick >= start_date:
            ticks.append(tick)
    return ticks
