"""Building blocks shared by the management models: identifiers, pagination, the base classes.

The base classes are the Execution API's (strict bodies: an unknown key is a 422).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Query
from pydantic import Field, computed_field

from slipstream.execution_api.datamodels.common import ResponseModel, RunId, StrictModel, UtcDateTime

__all__ = [
    "DEFAULT_LIMIT",
    "DagId",
    "Limit",
    "MapIndex",
    "Offset",
    "ResponseModel",
    "RunId",
    "StrictModel",
    "TaskId",
    "Timespan",
    "UtcDateTime",
    "page",
]

DagId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", min_length=1, max_length=250)]
"""Airflow's KEY_REGEX and ID_LEN, as docs/dag-document.schema.json's `id`."""

TaskId = DagId

MapIndex = Annotated[int, Query(ge=-1)]
"""-1 for a task that is not mapped, as in the table's keys."""

Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]
DEFAULT_LIMIT = 50

T = TypeVar("T")


def page(items: Sequence[T], limit: int, offset: int) -> list[T]:
    return list(items[offset : offset + limit])


class Timespan(ResponseModel):
    """A response with a start and an end, and Airflow's `duration` (seconds) between them."""

    start_date: datetime | None
    end_date: datetime | None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def duration(self) -> float | None:
        if self.start_date is None or self.end_date is None:
            return None
        return (self.end_date - self.start_date).total_seconds()
