"""Routes built on first use.

FastAPI builds a route when it is declared: it reads the endpoint's signature and dependencies and
builds a pydantic validator or serializer for every parameter, body and response model, about 2 ms
a route. A cold Lambda serves its first request with one of the Execution API's routes, so building
them all at import costs about 0.1 s that one request does not need. A `DeferredRoute` holds what
matching a request reads (path, methods, name) and builds the rest the first time anything else is
read: by its first request, by the OpenAPI document, or by `build_routes` before a SnapStart
snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Mount, compile_path, get_name
from starlette.types import ASGIApp

_building = threading.RLock()  # first requests on two threads build a route once


class DeferredRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        self.path = path
        self.endpoint = endpoint
        self.arguments = options  # `APIRoute`'s keyword arguments: to build it, or to add it elsewhere
        self.name = get_name(endpoint) if options.get("name") is None else options["name"]
        self.methods = {method.upper() for method in options.get("methods") or ["GET"]}
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)
        self.include_in_schema = options.get("include_in_schema", True)
        # The dict the built route keeps: responses documented before the build are not lost.
        self.responses = options["responses"] = dict(options.get("responses") or {})
        self._pending = True

    def build(self) -> None:
        with _building:
            if self.__dict__.pop("_pending", False):
                try:
                    APIRoute.__init__(self, self.path, self.endpoint, **self.arguments)
                except BaseException:
                    self._pending = True  # the next use raises the same error, not a missing attribute
                    raise

    def __getattr__(self, name: str) -> Any:
        """Only called for an attribute not set yet: build the route, then read it."""
        self.build()
        return object.__getattribute__(self, name)


def build_routes(app: ASGIApp) -> None:
    """Build every deferred route `app` serves, through its middleware and mounts."""
    for route in getattr(app, "routes", ()):
        if isinstance(route, DeferredRoute):
            route.build()
        elif isinstance(route, Mount):
            build_routes(route.app)
    inner = getattr(app, "app", None)  # a middleware's wrapped app
    if inner is not None:
        build_routes(inner)
