"""The root ASGI app Lambda serves: each API mounted at its path prefix."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slipstream.execution_api.app import create_app as create_execution_app


class CorrelationId:
    """Echo the caller's `correlation-id` header on every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = next((v for k, v in scope["headers"] if k == b"correlation-id"), None)
        if correlation is None:
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"correlation-id", correlation)]
            await send(message)

        await self.app(scope, receive, send_with_id)


class BuiltOnFirstUse:
    """An ASGI app created on its first request.

    Workers call the Execution API thousands of times for every management call, so a cold
    Lambda serving a task does not pay for importing and building the management API.
    """

    def __init__(self, factory: Callable[[], ASGIApp]) -> None:
        self._factory = factory
        self._app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._app = self._factory()
        await self._app(scope, receive, send)


def _management_app() -> ASGIApp:
    from slipstream.management_api.app import create_app as create_management_app

    return create_management_app()


def create_app() -> ASGIApp:
    return CorrelationId(
        Starlette(
            routes=[
                Mount("/execution", app=create_execution_app()),
                Mount("/api/v2", app=BuiltOnFirstUse(_management_app)),
            ]
        )
    )
