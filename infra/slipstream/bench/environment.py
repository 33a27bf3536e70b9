"""Process-wide state a bench area changes, put back when it is done (or cleared before it starts).

The local stack points this process at its AWS endpoint and resources through environment
variables, and settings, boto3 clients and signing keys are cached per process: an area that
leaves any of them behind would send the next area to a server that is gone.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scoped_environment(values: Mapping[str, str] | None = None) -> Iterator[None]:
    """Set `values` for the block; afterwards the environment is as it was, caches forgotten."""
    saved = dict(os.environ)
    os.environ.update(values or {})
    _forget_caches()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        _forget_caches()


def _forget_caches() -> None:
    from slipstream.auth.keys import forget_keys
    from slipstream.core import aws
    from slipstream.core.settings import get_settings
    from slipstream.services.run_snapshots import snapshots

    get_settings.cache_clear()
    aws.reset()
    forget_keys()
    snapshots.clear()


@contextmanager
def empty_moto_server() -> Iterator[str]:
    """moto's server in a child process of its own, as the local stack runs it, with this
    process's boto3 pointed at it for the block."""
    from slipstream.local.moto import moto_process

    with (
        tempfile.TemporaryDirectory(prefix="slipstream-bench-") as logs,
        moto_process(Path(logs, "moto.log")) as moto,
        scoped_environment({"AWS_ENDPOINT_URL": moto.endpoint}),
    ):
        yield moto.endpoint
