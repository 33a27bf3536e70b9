"""Shared test helpers (seeding lives in slipstream.local.seed, shared with the benchmark)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slipstream.core.settings import get_settings


@contextmanager
def env(**values: str) -> Iterator[None]:
    """Temporarily set SLIPSTREAM_* settings (the settings cache is refreshed both ways)."""
    import os

    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    get_settings.cache_clear()
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        get_settings.cache_clear()


def dumps(value: Any) -> str:
    return json.dumps(value)
