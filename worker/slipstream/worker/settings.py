"""Worker configuration, read from `SLIPSTREAM_*` environment variables.

Only worker knobs live here; the Lambda functions have their own settings. The Supervisor and the
Task Runner read the same environment, so a forked or spawned runner sees the same values.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLIPSTREAM_", extra="ignore")

    execution_api_url: str = Field(
        "http://localhost:8080/execution/",
        description="Base URL of the Execution API; must end in `/execution/` (paths are relative to it).",
    )
    api_timeout: float = Field(5.0, gt=0, description="Per-request timeout for Execution API calls (s).")
    api_retries: int = Field(
        5, ge=1, description="Attempts per Execution API call (connection errors, 5xx and 429 only)."
    )
    api_retry_wait_min: float = Field(1.0, ge=0, description="Lower bound of the retry backoff (s).")
    api_retry_wait_max: float = Field(90.0, ge=0, description="Upper bound of the retry backoff (s).")
    hostname: str = Field(
        "", description="Host name reported to `/run` and heartbeats; empty means the machine's FQDN."
    )
    dags_folder: Path = Field(Path("dags"), description="Folder of the `dags-folder` DAG bundle.")
    dag_bundles: dict[str, Path] = Field(
        default_factory=dict,
        description='More DAG bundles as JSON `{"<bundle name>": "<folder>"}`; overrides `dags-folder` too.',
    )
    heartbeat_interval: float = Field(5.0, gt=0, description="Seconds between task heartbeats.")
    max_failed_heartbeats: int = Field(
        3, ge=1, description="Consecutive failed heartbeats after which the task is killed."
    )
    kill_grace: float = Field(
        5.0, ge=0, description="Seconds between SIGTERM and SIGKILL when the Supervisor stops a runner."
    )
    success_overtime: float = Field(
        20.0, ge=0, description="Seconds a runner may live on after reporting a terminal state."
    )
    runner_start: Literal["auto", "fork", "spawn"] = Field(
        "auto",
        description="How runners start: `fork` the warm Supervisor, `spawn` a fresh Python, or `auto` "
        "(fork when the Supervisor is single-threaded on Linux).",
    )
    worker_queues: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["default"],
        description="SQS queues to poll, comma-separated queue URLs or names.",
    )
    worker_parallelism: int = Field(4, ge=1, description="Tasks one worker runs at the same time.")
    worker_poll_seconds: int = Field(
        20,
        ge=1,
        le=20,
        description="SQS long poll of an idle worker (s). A stopping worker lets the poll return and "
        "hands back what it brought, so it stops within this (plus its tries' grace).",
    )
    worker_grace: float = Field(
        60.0, ge=0, description="On SIGTERM, seconds running tasks get to finish before they are stopped."
    )
    worker_log_dir: Path = Field(
        Path("/tmp/slipstream/logs"), description="Folder of the per-try task log files (JSON lines)."
    )
    bucket_name: str | None = Field(
        None, description="S3 bucket task logs are shipped to when a try ends; unset keeps them local."
    )
    worker_runtime: Literal["slipstream", "airflow"] = Field(
        "slipstream",
        description="What runs a try: Slipstream's Supervisor, or Airflow's own task runtime "
        "(`execute_workload` under `airflow_python`).",
    )
    airflow_python: Path | None = Field(
        None,
        description="Python of the separate venv holding `apache-airflow-task-sdk` (runtime `airflow`).",
    )

    @field_validator("worker_queues", mode="before")
    @classmethod
    def _split_queues(cls, value: object) -> object:
        if isinstance(value, str):
            return [q.strip() for q in value.split(",") if q.strip()]
        return value

    @property
    def bundles(self) -> dict[str, Path]:
        """Every configured DAG bundle's folder, by bundle name."""
        return {"dags-folder": self.dags_folder, **self.dag_bundles}

    def bundle_path(self, name: str) -> Path:
        """The folder of DAG bundle `name`, or `LookupError` if it is not configured."""
        try:
            return self.bundles[name]
        except KeyError:
            raise LookupError(f"Requested bundle {name!r} is not configured.") from None


@lru_cache(maxsize=1)
def get_settings() -> WorkerSettings:
    return WorkerSettings()
