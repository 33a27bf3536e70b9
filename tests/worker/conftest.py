from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.worker.harness import ScriptedSupervisor

EXAMPLE_DAGS = Path(__file__).parent / "dags"


@pytest.fixture
def dags_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "dags"
    shutil.copytree(EXAMPLE_DAGS, folder)
    return folder


@pytest.fixture
def peer(dags_folder: Path) -> ScriptedSupervisor:
    return ScriptedSupervisor(dags_folder)
