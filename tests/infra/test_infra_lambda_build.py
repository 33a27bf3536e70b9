"""`sam build`, then the built ApiFunction under the Lambda runtime interface emulator, no Docker.

The build runs once per module into a temporary folder (about 20 s with a warm pip cache). The
emulator binary ships inside the aws-sam-cli wheel; `awslambdaric` in `.sam-venv` (the runtime's
Python, 3.13) is the runtime client, as in Lambda's own python3.13 image. The emulator speaks the
Lambda Invoke API only, so the test sends the event API Gateway's HTTP API would send (payload
format 2.0), bound to 127.0.0.1 on free ports, and always stops the emulator and its runtime.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from infra_support import ROOT, function_env, functions_of, sam_env

pytestmark = pytest.mark.timeout(600)

ENV_FILE = ROOT / "infra" / "sam-local.env.json"
BUILD_TIMEOUT = 480
READY_TIMEOUT = 20.0
INVOKE_TIMEOUT = 60.0


@pytest.fixture(scope="module")
def build_dir(sam_venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make sam-build` (and so `make deploy`) builds: `sam build`, then trimmed and compiled."""
    out = tmp_path_factory.mktemp("sam-build") / "build"
    command = ["make", "-s", "sam-build", f"SAM_BUILD_DIR={out}", "SAM_BUILD_ARGS=--no-cached"]
    result = subprocess.run(
        command, cwd=ROOT, env=sam_env(), capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"make sam-build failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return out


def test_sam_build_installs_the_pinned_requirements(build_dir: Path, template: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = project["dependencies"] + project["optional-dependencies"]["lambda"]
    for logical_id in functions_of(template):
        artifact = build_dir / logical_id
        assert (artifact / "slipstream").is_dir(), f"{logical_id}: the slipstream package was not copied"
        installed = {p.name.lower() for p in artifact.glob("*.dist-info")}
        for pin in pins:
            name, version = pin.split("==")
            dist = f"{name.replace('-', '_').lower()}-{version}.dist-info"
            assert dist in installed, f"{logical_id}: {pin} is not what sam build installed"
    built = (build_dir / "template.yaml").read_text()
    assert "CodeUri: ApiFunction" in built


# ------------------------------------------------------------------------------------- emulator


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _emulator(sam_venv: Path) -> Path:
    found = sorted(sam_venv.glob("lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64"))
    assert found, "the aws-sam-cli wheel no longer ships aws-lambda-rie-x86_64"
    return found[0]


def _function_environment(
    template: dict[str, Any], logical_id: str, artifact: Path, endpoint: str
) -> dict[str, str]:
    """What Lambda would give the function: the template's literal variables, the local overrides
    from infra/sam-local.env.json, and the runtime's own variables. AWS_ENDPOINT_URL points at
    the test's moto server, so that nothing can reach real AWS."""
    overrides = json.loads(ENV_FILE.read_text())
    props = template["Resources"][logical_id]["Properties"]
    env = {k: v for k, v in function_env(template, logical_id).items() if isinstance(v, str)}
    env |= overrides.get("Parameters", {}) | overrides.get(logical_id, {})
    env |= {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_LAMBDA_FUNCTION_NAME": f"slipstream-{logical_id}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(props["MemorySize"]),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(props["Timeout"]),
        "LAMBDA_TASK_ROOT": str(artifact),
        "PYTHONPATH": str(artifact),
        "PATH": "/usr/bin:/bin",
        "HOME": str(artifact.parent),
        "LANG": "C.UTF-8",
    }
    return env


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """The emulator and the runtime it started share a new session: signal the whole group (the
    runtime may outlive the emulator), politely first."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


@dataclass(frozen=True)
class Emulator:
    url: str
    log: Path

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        assert self.url.startswith("http://127.0.0.1:")
        data = json.dumps(event).encode()
        request = urllib.request.Request(self.url, data=data, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT) as response:  # noqa: S310
                return json.loads(response.read())  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            pytest.fail(f"the emulator answered {exc.code} {body}\n{self.log.read_text()}", pytrace=False)


@pytest.fixture(scope="module")
def aws_side() -> Iterator[dict[str, str]]:
    """moto's server with the template's resources; the SLIPSTREAM_* settings that name them."""
    from slipstream.local.moto import moto_server
    from slipstream.local.resources import create_resources
    from tests.support import env

    with moto_server() as endpoint:
        environment = create_resources().environment()
        with env(**environment):
            yield {"AWS_ENDPOINT_URL": endpoint, **environment}


@pytest.fixture(scope="module")
def api_function(
    sam_venv: Path,
    build_dir: Path,
    template: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
    aws_side: dict[str, str],
) -> Iterator[Emulator]:
    """The built ApiFunction running under the emulator; stopped after the module."""
    logical_id = "ApiFunction"
    artifact = build_dir / logical_id
    handler = template["Resources"][logical_id]["Properties"]["Handler"]
    log_path = tmp_path_factory.mktemp("rie") / "rie.log"
    env = _function_environment(template, logical_id, artifact, aws_side["AWS_ENDPOINT_URL"]) | aws_side
    for _ in range(3):  # a port picked as free may be taken before the emulator binds it
        port, runtime_api_port = _free_port(), _free_port()
        command = [
            str(_emulator(sam_venv)),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            f"127.0.0.1:{runtime_api_port}",
            str(sam_venv / "bin" / "python"),
            "-m",
            "awslambdaric",
            handler,
        ]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command, cwd=artifact, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            if _wait_until_listening(port, process, time.monotonic() + READY_TIMEOUT):
                yield Emulator(f"http://127.0.0.1:{port}/2015-03-31/functions/function/invocations", log_path)
                return
        finally:
            _stop(process)
    pytest.fail(f"the runtime interface emulator did not start:\n{log_path.read_text()}", pytrace=False)


def http_api_event(method: str, path: str, route_key: str, proxy: str | None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the default stage sends it."""
    now = time.time()
    domain = "abc123.execute-api.us-east-1.amazonaws.com"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "host": domain,
            "user-agent": "slipstream-infra-test",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": domain,
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "slipstream-infra-test",
            },
            "requestId": "infra-test-request",
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        **({"pathParameters": {"proxy": proxy}} if proxy is not None else {}),
        "isBase64Encoded": False,
    }


def test_api_function_answers_health(api_function: Emulator) -> None:
    event = http_api_event("GET", "/execution/health", "ANY /execution/{proxy+}", "health")
    response = api_function.invoke(event)
    assert response.get("statusCode") == 200, response
    assert response["headers"]["content-type"].startswith("application/json")
    json.loads(response["body"])


def test_api_function_starts_a_task_instance(api_function: Emulator) -> None:
    from slipstream.local.seed import queue_ti, register_dag, start_run

    register_dag("built", tasks=[{"task_id": "t", "upstream": []}])
    run_id = start_run("built")["run_id"]
    ti, workload = queue_ti("built", run_id, "t")
    path = f"/execution/task-instances/{ti['id']}/run"
    event = http_api_event("PATCH", path, "ANY /execution/{proxy+}", path.removeprefix("/execution/"))
    event["headers"] |= {"authorization": f"Bearer {workload['token']}", "content-type": "application/json"}
    body = {
        "state": "running",
        "hostname": "h",
        "unixname": "u",
        "pid": 1,
        "start_date": "2026-07-01T12:00:00Z",
    }
    event["body"] = json.dumps(body)
    response = api_function.invoke(event)
    assert response.get("statusCode") == 200, response
    context = json.loads(response["body"])
    assert context["dag_run"]["run_id"] == run_id
    assert context["should_retry"] is False
    assert response["headers"]["refreshed-api-token"]


def test_the_build_ships_bytecode_for_the_runtimes_python(build_dir: Path, template: dict[str, Any]) -> None:
    """Lambda's package is read-only: without bytecode in it, every cold start compiles each module
    it imports (about 1.6 s more for the API function, measured)."""
    tag = "cpython-" + str(template["Globals"]["Function"]["Runtime"]).removeprefix("python").replace(".", "")
    for logical_id in functions_of(template):
        artifact = build_dir / logical_id
        for module in ("slipstream/handlers/__init__.py", "pydantic/main.py", "botocore/client.py"):
            source = artifact / module
            compiled = source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"
            assert compiled.is_file(), f"{logical_id}: {module} has no {tag} bytecode"


def test_the_build_keeps_botocore_models_of_the_services_called(
    sam_venv: Path, build_dir: Path, template: dict[str, Any]
) -> None:
    """Each function's botocore holds the models of `SERVICES` only, and every client the functions
    create is created from the built package, under the runtime's Python."""
    from slipstream.core.aws import SERVICES

    script = (
        "from slipstream.core import aws\n"
        "print(' '.join(getattr(aws, s)().meta.service_model.service_name for s in aws.SERVICES))"
    )
    env = {"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}
    for logical_id in functions_of(template):
        artifact = build_dir / logical_id
        models = {path.name for path in (artifact / "botocore" / "data").iterdir() if path.is_dir()}
        assert models == set(SERVICES), logical_id
        result = subprocess.run(
            [str(sam_venv / "bin" / "python"), "-S", "-c", script],
            env={**env, "PYTHONPATH": str(artifact), "PYTHONDONTWRITEBYTECODE": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == list(SERVICES)


def test_the_bench_cold_starts_the_build(build_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from slipstream.bench import api

    monkeypatch.setattr(api, "COLD_SAMPLES", 1)
    figures = api.cold(build_dir)
    assert set(figures) == {"api.cold_start_ms", "api.cold_import_ms"}
    assert 0 < figures["api.cold_import_ms"] < figures["api.cold_start_ms"]
