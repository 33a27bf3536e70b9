"""Code that runs under Airflow's Python (`SLIPSTREAM_AIRFLOW_PYTHON`), not Slipstream's.

Its modules are run by path in that separate venv and import `airflow`; Slipstream's own code
never imports them. `script()` gives their paths.
"""

from __future__ import annotations

from pathlib import Path


def script(name: str) -> Path:
    """The path of module `name` of this package, to run under Airflow's Python."""
    return Path(__file__).with_name(f"{name}.py")
