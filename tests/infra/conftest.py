from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from infra_support import SAM_BIN, SAM_MISSING, SAM_VENV, load_template


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture(scope="session")
def sam_venv() -> Path:
    """The SAM CLI venv; tests that need it skip, with the way to create it, when it is missing."""
    if not (SAM_BIN / "sam").exists():
        pytest.skip(SAM_MISSING)
    return SAM_VENV
