"""SnapStart hooks: clients prepared before the snapshot, state dropped after each restore."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest
from starlette.routing import Mount

from slipstream.api.app import create_app
from slipstream.auth import keys
from slipstream.core import aws as clients
from slipstream.execution_api.datamodels.common import ResponseModel
from slipstream.execution_api.routing import DeferredRoute
from slipstream.handlers import snapstart


def test_restore_hook_drops_clients_and_keys(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    snapstart.prepare()
    assert len(registered) == 1
    before = clients.dynamodb()
    assert keys._provider.cache_info().currsize == 1  # its imports go into the snapshot
    registered[0]()
    assert clients.dynamodb() is not before
    assert keys._provider.cache_info().currsize == 0  # rebuilt, with a fresh client, on first use


def test_nothing_happens_outside_snapstart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    clients.reset()
    snapstart.prepare()
    assert clients.dynamodb.cache_info().currsize == 0


def test_the_snapshot_holds_every_route_built(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = lambda hook: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    app = create_app()
    snapstart.prepare(app)
    execution = next(r.app for r in app.app.routes if isinstance(r, Mount) and r.path == "/execution")
    routes = [r for r in execution.routes if isinstance(r, DeferredRoute)]
    assert len(routes) > 40
    assert all("_pending" not in vars(r) for r in routes)


def test_the_snapshot_holds_every_response_model_built(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """Response models build on first use (a cold start needs one at most); a snapshot has them all."""
    runtime = types.ModuleType("snapshot_restore_py")
    runtime.register_after_restore = lambda hook: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", runtime)
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    assert ResponseModel.model_config.get("defer_build") is True
    snapstart.prepare(create_app())
    models, pending = [], [ResponseModel]
    while pending:
        model = pending.pop()
        models.append(model)
        pending.extend(model.__subclasses__())
    assert len(models) > 20
    assert [model for model in models if not model.__pydantic_complete__] == []
