"""The management API (`/api/v2`) over HTTP, as the CLI commands use it.

The target is the running local stack by default (`.slipstream/local.json`, written by `slipstream
local up`); `--api-url`/`--token` or SLIPSTREAM_API_URL/SLIPSTREAM_ADMIN_TOKEN point the commands at
a deployed stack instead. Failures become `CommandError`, which `command` turns into a message and
exit status 1.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

LOCAL_FILE = Path(".slipstream/local.json")


class CommandError(Exception):
    """What the user is told, on stderr, before the command exits with status 1."""


def command(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except CommandError as exc:
            print(f"slipstream: {exc}", file=sys.stderr)
            return 1

    return run


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--api-url", help="base URL of the HTTP API (default: SLIPSTREAM_API_URL, else local)"
    )
    parser.add_argument("--token", help="admin token (default: SLIPSTREAM_ADMIN_TOKEN, else local)")


def local_stack() -> dict[str, str] | None:
    """What the running local stack wrote about itself, or None."""
    try:
        data: dict[str, str] = json.loads(LOCAL_FILE.read_text())
    except FileNotFoundError:
        return None
    return data


def targets_local(args: argparse.Namespace) -> bool:
    return not (args.api_url or os.environ.get("SLIPSTREAM_API_URL")) and local_stack() is not None


def connect(args: argparse.Namespace) -> ManagementApi:
    local = local_stack() or {}
    url = args.api_url or os.environ.get("SLIPSTREAM_API_URL") or local.get("api_url")
    token = args.token or os.environ.get("SLIPSTREAM_ADMIN_TOKEN") or local.get("admin_token")
    if not url or not token:
        raise CommandError(
            f"no stack to talk to: start one with `slipstream local up` (it writes {LOCAL_FILE}), "
            "or give --api-url and --token (SLIPSTREAM_API_URL, SLIPSTREAM_ADMIN_TOKEN)"
        )
    return ManagementApi(url, token)


def segment(value: str) -> str:
    """One path segment, every reserved character escaped (run ids hold `+` and `:`)."""
    return quote(value, safe="")


class ManagementApi:
    def __init__(self, api_url: str, token: str, timeout: float = 30.0) -> None:
        import httpx

        self._http = httpx.Client(
            base_url=api_url.rstrip("/") + "/api/v2",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON answer; `CommandError` for any status outside 2xx (the API's detail included)."""
        import httpx

        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CommandError(f"{method} {self._http.base_url}{path}: {exc}") from None
        if response.is_error:
            raise CommandError(f"{method} {path}: {response.status_code} {_detail(response)}")
        return response.json() if response.content else None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def upsert(self, collection: str, key: str, body: dict[str, Any]) -> None:
        """Create `collection/key`, or update it if it exists (POST, then PATCH on 409)."""
        import httpx

        response = self._http.post(collection, json=body)
        if response.status_code == httpx.codes.CONFLICT:
            self.request("PATCH", f"{collection}/{segment(key)}", json=body)
        elif response.is_error:
            raise CommandError(f"POST {collection}: {response.status_code} {_detail(response)}")

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """The run with its task instances (`task_instances`), `run_id` as in the Execution API."""
        path = f"/dags/{segment(dag_id)}/dagRuns/{segment(run_id)}"
        run: dict[str, Any] = self.get(path)
        run["task_instances"] = self.get(f"{path}/taskInstances")["task_instances"]
        run.setdefault("run_id", run.get("dag_run_id"))
        return run

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        runs: list[dict[str, Any]] = self.get(f"/dags/{segment(dag_id)}/dagRuns")["dag_runs"]
        return runs


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text or response.reason_phrase
    detail = body.get("detail", body.get("message", body)) if isinstance(body, dict) else body
    return detail if isinstance(detail, str) else json.dumps(detail)
