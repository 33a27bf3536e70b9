"""Cadwyn version routing without Cadwyn's costs when there is nothing to migrate.

Cadwyn builds each version's routes lazily on the first request: it deep-copies the router once
per version, regenerates every model for every version and wraps every endpoint in a migration
layer. With a single version and no `VersionChange`s all of that is redundant, yet it costs about
0.5 s on the first request of each Lambda execution environment (the pattern that makes Airflow's
first Execution API request take seconds) and the wrapper costs about 2.5 ms on every warm request:
it re-solves the endpoint's dependencies against the head schema, validating the body a second
time, and round-trips every response body through `json.loads`/`json.dumps` (Cadwyn's own TODO,
issue 51, "only do this if there are migrations").

`SlipstreamCadwyn` keeps Cadwyn's header routing, default version, version echo and per-version
OpenAPI, and when no version changes exist it serves the head routes as the one version's routes,
unwrapped, with Cadwyn's version-header dependency awaited inline rather than on a thread. It
initialises when the app is built (at import), not on the first request, and adds each route to the
version's router as declared (`DeferredRoute`), once: including the head routers would build every
route a second time, and FastAPI builds an included route when it is included. Add a
`VersionChange` and Cadwyn's full machinery is back, unchanged.

`VersionPicking` does what Cadwyn's `VersionPickingMiddleware` does (read the version header,
apply the default, echo the matched version) as plain ASGI instead of a `BaseHTTPMiddleware`,
whose task group and memory streams cost about 0.5 ms per request.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from cadwyn import Cadwyn
from cadwyn._internal.context_vars import DEFAULT_API_VERSION_VAR
from cadwyn.middleware import VersionPickingMiddleware, _generate_api_version_dependency
from fastapi import APIRouter, Request
from fastapi.params import Depends
from starlette.types import Message, Receive, Scope, Send

from slipstream.execution_api.routing import DeferredRoute


class SlipstreamCadwyn(Cadwyn):
    _head_routers: list[APIRouter]

    @property
    def _nothing_to_migrate(self) -> bool:
        return not self.versions._all_changes and len(self.versions.versions) == 1

    def generate_and_include_versioned_routers(self, *routers: APIRouter) -> None:
        if not self._nothing_to_migrate:
            super().generate_and_include_versioned_routers(*routers)
            return
        # Kept as they are: including them into the head router would rebuild every route.
        self._head_routers = [*getattr(self, "_head_routers", []), *routers]

    def _cadwyn_initialize(self) -> None:
        if not self._nothing_to_migrate:
            super()._cadwyn_initialize()
            return
        version = str(self.versions.versions[0].value)
        self._add_versioned_routers(APIRouter(), version=version)  # the version's OpenAPI route
        versioned = self.router.versioned_routers[version]
        added = len(versioned.routes)
        dependency = Depends(_as_coroutine(self._version_dependency(version)))
        for router in getattr(self, "_head_routers", []):
            for route in router.routes:
                if not isinstance(route, DeferredRoute):
                    raise TypeError(f"{route}: declare Execution API routes with route_class=DeferredRoute")
                arguments = {k: v for k, v in route.arguments.items() if k != "dependency_overrides_provider"}
                arguments["dependencies"] = [dependency, *arguments["dependencies"]]
                versioned.add_api_route(
                    route.path, route.endpoint, **arguments, route_class_override=DeferredRoute
                )
        self.router.extend_routes(versioned.routes[added:])
        self._cadwyn_initialized = True

    def _version_dependency(self, version: str) -> Callable[..., Any]:
        """Cadwyn's per-route version dependency, made as `Cadwyn._add_versioned_routers` makes it."""
        return _generate_api_version_dependency(  # type: ignore[no-any-return]
            api_version_parameter_name=self.api_version_parameter_name,
            api_version_pythonic_parameter_name=self.api_version_pythonic_parameter_name,
            default_value=version,
            fastapi_depends_class=self._api_version_fastapi_depends_class,
            validation_data_type=self.api_version_validation_data_type,
            title=self.api_version_title,
            description=self.api_version_description,
        )

    def initialize(self) -> None:
        """Set the version's routes up now rather than on the first request (each builds on first use)."""
        if not self._cadwyn_initialized:
            self._cadwyn_initialize()


def _as_coroutine(call: Callable[..., Any]) -> Callable[..., Any]:
    """Cadwyn's per-route version dependency (it declares the header for OpenAPI and validation)
    is a plain function, so FastAPI would run it on a worker thread: a thread hop on every request.
    The same function as a coroutine runs inline."""

    async def version_dependency(**kwargs: Any) -> Any:
        return call(**kwargs)

    version_dependency.__signature__ = inspect.signature(call)  # type: ignore[attr-defined]
    return version_dependency


class VersionPicking(VersionPickingMiddleware):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        api_version = self._api_version_manager.get(request)
        if api_version is None:
            default = self.api_version_default_value
            api_version = default if isinstance(default, str | None) else await default(request)
            DEFAULT_API_VERSION_VAR.set(api_version)
        self.api_version_var.set(api_version)
        if api_version is None:
            await self.app(scope, receive, send)
            return
        header = self.api_version_parameter_name.lower().encode()

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                matched = scope.get("cadwyn.api_version", api_version)
                message["headers"] = [*message.get("headers", []), (header, str(matched).encode())]
            await send(message)

        await self.app(scope, receive, send_with_version)
