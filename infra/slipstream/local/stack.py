"""`slipstream local up`: the whole system on one machine, wired as template.yaml wires it on AWS.

- AWS is moto's server, a child process, holding the template's table, queues, bucket and secret.
- API Gateway is a stand-in in this process that calls the API function's own handler, and the
  scheduler is the stream function (fed by a local event source mapping) and the timer function
  (ticked every `SLIPSTREAM_LOCAL_TIMER_SECONDS`), all in threads of this process.
- The workers are `slipstream worker` child processes, as the ECS service runs them.

Everything lives in memory: stopping the stack discards all state. Every SLIPSTREAM_* variable of
this process reaches the handlers and every child. `.slipstream/local.json` tells the CLI where the
stack is while it runs.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from slipstream.local.events import LocalContext, scheduled_event
from slipstream.local.moto import moto_process, use_offline_credentials
from slipstream.local.processes import Child, stop_all
from slipstream.local.resources import STACK_NAME, LocalResources, create_resources
from slipstream.local.template import load_template

log = logging.getLogger(__name__)

API_HANDLER = "slipstream.handlers.api.handler"
STREAM_HANDLER = "slipstream.handlers.stream.handler"
TIMER_HANDLER = "slipstream.handlers.timer.handler"
STATE_DIR = Path(".slipstream")
LOCAL_FILE = "local.json"
ADMIN_TOKEN_TTL = 30 * 86400  # the signing key, and so the token, dies with the stack
WORKER_STOP_TIMEOUT = 10.0
"""Seconds the workers get to stop: their grace (5 s) and their short SQS poll (5 s) fit in it."""

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class StackInfo:
    """What `.slipstream/local.json` holds: how to reach the running stack."""

    api_url: str
    execution_api_url: str
    admin_token: str
    aws_endpoint_url: str
    region: str
    worker_queues: str
    """What a worker of this stack polls (SLIPSTREAM_WORKER_QUEUES): the task queues' URLs."""


class LocalStack:
    """Starts on `__enter__`, stops everything it started on `__exit__`, in reverse order.

    It changes this process's environment (AWS endpoint, credentials, SLIPSTREAM_* names), as the
    Lambda runtime sets a function's environment.
    """

    def __init__(
        self,
        port: int,
        workers: int,
        dags_folder: Path,
        state_dir: Path = STATE_DIR,
        runtime: str = "slipstream",
    ) -> None:
        self.port = port
        self.workers = workers
        self.runtime = runtime
        self.dags_folder = dags_folder.resolve()
        self.state_dir = state_dir.resolve()
        self.task_log_dir = Path(os.environ.get("SLIPSTREAM_WORKER_LOG_DIR") or self.state_dir / "task-logs")
        self.children: list[Child] = []
        self._exit = ExitStack()

    def __enter__(self) -> StackInfo:
        try:
            return self._start()
        except BaseException:
            self._exit.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self._exit.close()

    def dead_child(self) -> Child | None:
        return next((child for child in self.children if child.exited() is not None), None)

    def _start(self) -> StackInfo:
        # The functions' own logs (Powertools, JSON on stdout) would drown the CLI's output.
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        os.environ.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
        use_offline_credentials()
        endpoint = self._start_moto()
        resources = self._create_resources(endpoint, region)

        from slipstream.auth.tokens import mint_admin_token
        from slipstream.local.gateway import Gateway, GatewayServer, template_routes

        api_handler = _import_handler(API_HANDLER, required=True)
        assert api_handler is not None
        template = load_template()
        gateway = Gateway(api_handler, template_routes(template, API_HANDLER), f"{STACK_NAME}-api")
        server = GatewayServer(gateway, self.port)
        server.start()
        self._exit.callback(server.stop)

        self._start_scheduler(resources, region)
        info = StackInfo(
            api_url=server.url,
            execution_api_url=f"{server.url}/execution/",
            admin_token=mint_admin_token("local-admin", ttl=ADMIN_TOKEN_TTL),
            aws_endpoint_url=endpoint,
            region=region,
            worker_queues=",".join(resources.queue_urls.values()),
        )
        self._start_workers(info)
        self._write_local_file(info)
        return info

    def _start_moto(self) -> str:
        moto = self._exit.enter_context(moto_process(self.state_dir / "logs" / "moto.log"))
        self.children.append(moto.child)
        os.environ["AWS_ENDPOINT_URL"] = moto.endpoint
        return moto.endpoint

    def _create_resources(self, endpoint: str, region: str) -> LocalResources:
        from slipstream.auth.keys import forget_keys
        from slipstream.core import aws
        from slipstream.core.settings import get_settings

        resources = create_resources(region)
        os.environ.update(resources.environment())
        get_settings.cache_clear()
        aws.reset()
        forget_keys()
        return resources

    def _start_scheduler(self, resources: LocalResources, region: str) -> None:
        import boto3

        from slipstream.local.streams import EventSourceMapping, StreamPoller

        stop = threading.Event()
        threads: list[threading.Thread] = []
        stream_handler = _import_handler(STREAM_HANDLER)
        if stream_handler is not None:
            poller = StreamPoller(
                boto3.client("dynamodbstreams", region_name=region),
                resources.stream_arn,
                stream_handler,
                function_name=f"{STACK_NAME}-stream",
                region=region,
                mapping=EventSourceMapping.from_template(load_template(), STREAM_HANDLER),
            )
            poller.start_at_latest()  # before anything writes: no record is missed
            threads.append(threading.Thread(target=poller.run, args=(stop,), name="stream-poller"))
        timer_handler = _import_handler(TIMER_HANDLER)
        if timer_handler is not None:
            interval = float(os.environ.get("SLIPSTREAM_LOCAL_TIMER_SECONDS", "5"))
            threads.append(
                threading.Thread(target=_tick, args=(timer_handler, interval, stop, region), name="timer")
            )
        for thread in threads:
            thread.start()

        def stop_scheduler() -> None:
            stop.set()
            for thread in threads:
                thread.join(60)

        self._exit.callback(stop_scheduler)

    def _start_workers(self, info: StackInfo) -> None:
        env = {
            **os.environ,
            "SLIPSTREAM_EXECUTION_API_URL": info.execution_api_url,
            "SLIPSTREAM_WORKER_QUEUES": info.worker_queues,
            "SLIPSTREAM_DAGS_FOLDER": str(self.dags_folder),
            "SLIPSTREAM_WORKER_LOG_DIR": str(self.task_log_dir),
        }
        env.setdefault("SLIPSTREAM_WORKER_GRACE", "5")
        env.setdefault("SLIPSTREAM_WORKER_POLL_SECONDS", "5")
        workers = [
            Child(
                f"worker-{n}",
                [sys.executable, "-m", "slipstream.cli", "worker", "--runtime", self.runtime],
                {"SLIPSTREAM_HOSTNAME": f"local-worker-{n}", **env},
                self.state_dir / "logs" / f"worker-{n}.log",
            )
            for n in range(1, self.workers + 1)
        ]
        self.children.extend(workers)
        self._exit.callback(stop_all, workers, WORKER_STOP_TIMEOUT)

    def _write_local_file(self, info: StackInfo) -> None:
        path = self.state_dir / LOCAL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        # It holds an admin token: readable by this user only.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(asdict(info), file, indent=2)
        self._exit.callback(path.unlink, missing_ok=True)


def up(port: int, workers: int, dags_folder: Path, runtime: str = "slipstream") -> int:
    """Run the stack in the foreground until Ctrl-C or SIGTERM (0), or until a child dies (1)."""
    log_to_stderr()
    stop_on_signals()
    stack = LocalStack(port, workers, dags_folder, runtime=runtime)
    try:
        with stack as info:
            print(
                f"Slipstream local stack ready: {info.api_url}\n"
                f"  workers: {workers} ({runtime} runtime), DAGs from {stack.dags_folder}\n"
                f"  connection details: {stack.state_dir / LOCAL_FILE}\n"
                f"  process logs: {stack.state_dir / 'logs'}\n"
                "  Ctrl-C stops it.",
                flush=True,
            )
            while (dead := stack.dead_child()) is None:
                time.sleep(0.5)
            log.error("%s exited with status %s (see %s); stopping", dead.name, dead.exited(), dead.log_file)
            return 1
    except KeyboardInterrupt:
        return 0


def log_to_stderr() -> None:
    """The stack's own records on stderr, apart from the functions' Powertools logger ("slipstream"),
    whose level and JSON format (with a Lambda context) they would otherwise inherit."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    local = logging.getLogger(__package__)
    local.addHandler(handler)
    local.setLevel(logging.INFO)
    local.propagate = False


def stop_on_signals() -> None:
    """Make SIGTERM stop the stack as Ctrl-C does, and ignore both while it stops."""

    def stop(signum: int, frame: FrameType | None) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)


def _import_handler(path: str, *, required: bool = False) -> Handler | None:
    """The handler `module.attribute`; None, with a warning, if its module does not exist (yet)."""
    module_name, _, attribute = path.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if required or exc.name != module_name:
            raise
        log.warning(
            "%s does not exist: the stack runs without it, so nothing it does will happen", module_name
        )
        return None
    handler: Handler = getattr(module, attribute)
    return handler


def _tick(handler: Handler, interval: float, stop: threading.Event, region: str) -> None:
    """The timer function's schedule; a failed tick is not retried (as deployed)."""
    while not stop.wait(interval):
        try:
            handler(
                scheduled_event(f"{STACK_NAME}-timer", region), LocalContext.invocation(f"{STACK_NAME}-timer")
            )
        except Exception:
            log.exception("the timer function failed")


def aws_only(port: int) -> int:
    """Serve only the AWS side (moto with template.yaml's resources) until Ctrl-C or SIGTERM: what
    `sam local start-api --env-vars infra/sam-local.env.json` runs the functions against."""
    from slipstream.local.moto import moto_server
    from slipstream.local.resources import create_resources

    log_to_stderr()
    stop_on_signals()
    try:
        with moto_server(port) as endpoint:
            resources = create_resources()
            print(f"Slipstream's AWS side ready: {endpoint}", flush=True)
            for name, value in sorted(resources.environment().items()):
                print(f"  {name}={value}", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0
