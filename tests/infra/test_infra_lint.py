"""cfn-lint and `sam validate --lint` on template.yaml, with the versions `.sam-venv` pins.

Both run offline (no region, no credentials) in a few seconds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from infra_support import ROOT, TEMPLATE, sam_env


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=sam_env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_cfn_lint_is_clean(sam_venv: Path) -> None:
    result = _run(str(sam_venv / "bin" / "cfn-lint"), str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_validate_lint_is_clean(sam_venv: Path) -> None:
    result = _run(str(sam_venv / "bin" / "sam"), "validate", "--lint", "--template-file", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout
