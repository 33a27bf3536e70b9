"""README's configuration table documents every setting the code reads."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings

from slipstream.core.settings import Settings
from slipstream.worker.settings import WorkerSettings

README = Path(__file__).resolve().parents[1] / "README.md"


def _variables(settings: type[BaseSettings]) -> set[str]:
    prefix = str(settings.model_config.get("env_prefix", ""))
    return {f"{prefix}{name}".upper() for name in settings.model_fields}


def test_every_setting_is_in_the_readme() -> None:
    text = README.read_text()
    missing = {v for v in _variables(Settings) | _variables(WorkerSettings) if f"`{v}`" not in text}
    assert not missing, f"README's configuration table lacks {sorted(missing)}"
