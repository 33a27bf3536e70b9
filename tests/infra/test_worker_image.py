"""worker/Dockerfile's install, without Docker (there is none here): its build context (the COPY
lines) installed by its own `pip install` line into a fresh venv. The image's entry point must run,
and nothing of the Lambda functions or the local stack may be in it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "worker" / "Dockerfile").read_text()

pytestmark = pytest.mark.e2e


def _build_context(target: Path) -> None:
    """What the COPY lines copy, as Docker copies it: a directory's contents to the destination,
    files into the destination directory."""
    for sources, destination in re.findall(r"^COPY (.+) (\S+)$", DOCKERFILE, re.MULTILINE):
        for source in sources.split():
            origin = ROOT / source
            if origin.is_dir():
                shutil.copytree(origin, target / destination)
            else:
                (target / destination).mkdir(parents=True, exist_ok=True)
                shutil.copy(origin, target / destination / origin.name)


def _python(venv_dir: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_dir / "bin" / "python"), "-c", code], capture_output=True, text=True, check=False
    )


@pytest.mark.timeout(600)
def test_the_worker_image_holds_the_worker_and_sdk_and_nothing_of_the_server(tmp_path: Path) -> None:
    context = tmp_path / "src"
    _build_context(context)
    assert sorted(p.name for p in context.iterdir()) == ["README.md", "pyproject.toml", "worker"]
    install = re.search(r'^RUN pip install "([^"]+)"', DOCKERFILE, re.MULTILINE)
    assert install is not None
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    pip = [str(environment / "bin" / "python"), "-m", "pip", "install", "-q", install.group(1)]
    subprocess.run(pip, cwd=context, check=True, timeout=540)

    entry_point = re.search(r"^ENTRYPOINT (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert entry_point is not None
    command, *arguments = json.loads(entry_point.group(1))
    started = subprocess.run(
        [str(environment / "bin" / command), *arguments, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    assert "--runtime" in started.stdout

    works = _python(environment, "import slipstream.worker.worker, slipstream.sdk, slipstream.cli")
    assert works.returncode == 0, works.stderr
    for absent in ("slipstream.handlers", "slipstream.execution_api", "slipstream.local", "fastapi", "moto"):
        missing = _python(environment, f"import {absent}")
        assert "ModuleNotFoundError" in missing.stderr, (absent, missing.stderr)
