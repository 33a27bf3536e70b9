"""SnapStart hooks: clients prepared before the snapshot, state dropped after each restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from collections.abc import Callable

import pytest
from starlette.routing import Mount

from slipstream.api.app import create_app
from slipstream.auth import keys
from slipstream.core import aws as clients
from slipstream.execution_api.routing import DeferredRoute
from slipstream.handlers import snapstart


@pytest.fixture
def snapshot_runtime(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    """Lambda's SnapStart runtime as `prepare` sees it; returns the after-restore hooks registered."""
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    return registered


def test_restore_hook_drops_clients_and_keys(aws: None, snapshot_runtime: list[Callable[[], None]]) -> None:
    snapstart.prepare()
    assert len(snapshot_runtime) == 1
    before = clients.dynamodb()
    assert keys._provider.cache_info().currsize == 1  # its imports go into the snapshot
    snapshot_runtime[0]()
    assert clients.dynamodb() is not before
    assert keys._provider.cache_info().currsize == 0  # rebuilt, with a fresh client, on first use


def test_nothing_happens_outside_snapstart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    clients.reset()
    snapstart.prepare()
    assert clients.dynamodb.cache_info().currsize == 0


def test_the_snapshot_holds_every_route_built(aws: None, snapshot_runtime: list[Callable[[], None]]) -> None:
    app = create_app()
    snapstart.prepare(app)
    execution = next(r.app for r in app.app.routes if isinstance(r, Mount) and r.path == "/execution")
    routes = [r for r in execution.routes if isinstance(r, DeferredRoute)]
    assert len(routes) > 40
    assert all("_pending" not in vars(r) for r in routes)


RESPONSE_MODELS_SCRIPT = """
import json, sys, types
runtime = types.ModuleType("snapshot_restore_py")
runtime.register_after_restore = lambda hook: None
sys.modules["snapshot_restore_py"] = runtime
from slipstream.api.app import create_app
from slipstream.execution_api.datamodels.common import response_models
from slipstream.handlers import snapstart
app = create_app()
built_at_import = [m.__name__ for m in response_models() if m.__pydantic_complete__]
snapstart.prepare(app)
models = list(response_models())
unbuilt = [m.__name__ for m in models if not m.__pydantic_complete__]
print(json.dumps({"models": len(models), "built_at_import": built_at_import, "unbuilt": unbuilt}))
"""


def test_the_snapshot_holds_every_response_model_built() -> None:
    """Response models build on first use (a cold start needs one at most) and a snapshot holds them
    all built. In a fresh interpreter: in this one, earlier tests have built them already."""
    env = {**os.environ, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", RESPONSE_MODELS_SCRIPT], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.splitlines()[-1])
    assert figures["models"] > 20
    assert figures["built_at_import"] == []
    assert figures["unbuilt"] == []
