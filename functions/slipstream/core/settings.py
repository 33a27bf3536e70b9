"""Server configuration, read once per process from `SLIPSTREAM_*` environment variables.

Every knob the Lambda functions and the local stack read lives here; README lists them in one
table. Tests shorten lifetimes and timeouts by setting the variables before the first call of
`get_settings()` (or by calling `get_settings.cache_clear()`).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SLIPSTREAM_", extra="ignore")

    table_name: str = Field("slipstream", description="DynamoDB table holding all state.")
    bucket_name: str = Field("slipstream", description="S3 bucket for large XComs and task logs.")
    signing_key_secret: str = Field(
        "slipstream/signing-keys",
        description="Secrets Manager secret holding the JWT signing keys (JSON, see docs/auth.md).",
    )
    signing_key_cache_seconds: int = Field(300, description="How long the signing keys are cached.")
    execution_token_ttl: int = Field(600, gt=0, description="Lifetime of execution tokens (s).")
    workload_token_ttl: int = Field(86400, gt=0, description="Lifetime of workload tokens (s).")
    admin_token_ttl: int = Field(3600, gt=0, description="Default lifetime of admin tokens (s).")
    jwt_audience: str = Field("urn:airflow.apache.org:task", description="`aud` of task tokens.")
    jwt_issuer: str = Field("slipstream", description="`iss` of every token.")
    jwt_leeway: int = Field(10, ge=0, description="Grace for `exp`/`nbf` checks (s).")
    heartbeat_timeout: int = Field(
        300, gt=0, description="A running TI whose last heartbeat is older than this is a zombie (s)."
    )
    xcom_offload_bytes: int = Field(
        300_000, gt=0, description="XCom values larger than this (encoded JSON) are stored in S3."
    )
    connections_secret_prefix: str = Field(
        "airflow/connections",
        description="Secrets Manager prefix looked up before DynamoDB for connections; empty disables.",
    )
    max_map_length: int = Field(1024, gt=0, description="Largest `mapped_length` an XCom may declare.")
    queue_urls: dict[str, str] = Field(
        default_factory=dict,
        description='SQS queue URL per task `queue` (JSON, e.g. {"default": "https://..."}); unknown '
        "queues use `default`.",
    )
    queued_resend_seconds: int = Field(
        300,
        gt=0,
        description="A TI queued this long (from when its message became visible) without starting"
        " gets its message sent again (s); a send SQS refused is retried at the timer's next tick.",
    )
    scheduler_fast_path: bool = Field(
        True, description="Queue ready downstream tasks in the request that finished their upstream."
    )
    run_snapshots: int = Field(
        256,
        ge=0,
        description="Runs each API instance remembers, so that a task's `/state` plans what it makes ready"
        " without reading its run again (docs/data-model.md); 0 reads the run on every `/state`.",
    )
    strict_isolation: bool = Field(
        False,
        description="Task tokens write only their own TI's XComs, read XComs of their own DAG only, "
        "and use only the variables and connections their DAG document declares (docs/auth.md).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
