"""One typed settings object per process, built at the entry point and passed in.

Every field can be set by an environment variable ``SKEWLESS_<FIELD>`` (for example
``SKEWLESS_PROFILE=production``) or by the matching CLI flag. Nothing here touches
the disk or the network when imported or constructed.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from skewless.layout import DataLayout
from skewless.modes import DeploymentMode, Profile, RedisType

__all__ = ["DeploymentMode", "Profile", "RedisType", "Settings"]


class Settings(BaseSettings):
    """Process-wide settings for every Skewless command and service."""

    model_config = SettingsConfigDict(env_prefix="SKEWLESS_", extra="forbid")

    profile: Profile = Field(
        default=Profile.EMBEDDED,
        description="embedded: DuckDB + SQLite + file registry; production: Redis + PostgreSQL registry; "
        "spark: production's servers with Spark for the offline store, the feature pipeline and "
        "materialization.",
    )
    root_dir: Path = Field(
        default=Path("."),
        description="Workspace holding feature_repo/ and data/ (the project checkout).",
    )
    redis_connection: str = Field(
        default="127.0.0.1:6379,db=0",
        description="Feast Redis connection string, 'host:port,db=N' (not a URL); for a cluster, some "
        "of its nodes: 'host1:port1,host2:port2' (the client finds the rest).",
    )
    redis_type: RedisType = Field(
        default=RedisType.REDIS,
        description="redis: one server; redis_cluster: a Redis Cluster (Feast's redis_type).",
    )
    spark_master: str = Field(
        default="local[2]",
        description="Spark master of the spark profile: local[N] on this machine, or a cluster's URL "
        "(spark://host:7077, k8s://https://host:443).",
    )
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description="More Spark properties for the spark profile (JSON in SKEWLESS_SPARK_CONF), e.g. "
        '{"spark.executor.memory": "8g", "spark.executor.instances": "4"}; they override the yaml\'s.',
    )
    registry_url: str = Field(
        default="postgresql+psycopg://postgres@127.0.0.1:5432/skewless",
        description="SQLAlchemy URL of the Feast SQL registry (production profile).",
    )

    mlflow_tracking_uri: str = Field(
        default="http://127.0.0.1:5000",
        description="MLflow tracking server (production profile); embedded uses data/mlflow.db.",
    )

    model_name: str = Field(default="fraud_detection", description="Registered model the API serves.")
    max_batch_size: int = Field(default=1_000, gt=0, description="Largest /predict/batch (bigger: 413).")
    gather_max_rows: int = Field(
        default=50,
        ge=1,
        description="Concurrent single /predict requests scored together in one online read and model "
        "call: at most this many, and at most the 50 rows scored on the event loop (1: each alone). "
        "Never waits on a timer: only requests already arriving are gathered.",
    )
    max_body_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest request body (bigger: 413 before it is read or parsed)."
    )
    degraded_scoring: bool = Field(
        default=False,
        description="When the online store is down, score with request-time features only (flagged) "
        "instead of answering 503.",
    )
    log_flush_rows: int = Field(default=2_000, gt=0, description="Served-feature log: rows per file.")
    log_flush_seconds: float = Field(default=2.0, gt=0, description="Served-feature log: longest wait.")
    log_queue_size: int = Field(default=100_000, gt=0, description="Served-feature log: bounded queue.")
    reload_interval_s: float = Field(
        default=10.0,
        ge=0,
        description="How often the API checks whether the champion alias moved (0: never).",
    )
    deployment_mode: DeploymentMode = Field(
        default=DeploymentMode.SINGLE,
        description="single, shadow or canary, until an admin sets it in the registry (which wins).",
    )
    canary_share: float = Field(
        default=0.1, ge=0, le=1, description="Share of customers served by the challenger in canary mode."
    )
    canary_min_requests: int = Field(
        default=200, gt=0, description="Challenger answers needed before the canary is judged."
    )
    canary_window: int = Field(
        default=2_000, gt=0, description="Most recent answers per model that the canary is judged on."
    )
    canary_max_error_rate_increase: float = Field(
        default=0.02, ge=0, le=1, description="Roll back when the challenger's error rate exceeds the "
        "champion's by more than this.",
    )  # fmt: skip
    canary_max_latency_ratio: float = Field(
        default=2.0, gt=0, description="Roll back when the challenger's p99 scoring latency exceeds "
        "this multiple of the champion's (plus canary_latency_slack_ms).",
    )  # fmt: skip
    canary_latency_slack_ms: float = Field(
        default=2.0, ge=0, description="Absolute slack on the latency limit, so sub-ms noise never fires."
    )
    canary_min_rank_correlation: float = Field(
        default=0.15, ge=-1, le=1, description="Roll back when the Spearman correlation of the two models' "
        "scores on the same requests falls below this (a random or broken challenger is near 0).",
    )  # fmt: skip
    canary_check_interval_s: float = Field(default=1.0, gt=0, description="How often the canary is judged.")
    shadow_queue_size: int = Field(
        default=1_000, gt=0, description="Shadow scoring backlog; past it requests are not shadowed "
        "(counted).",
    )  # fmt: skip
    ready_requires_fresh_store: bool = Field(
        default=True,
        description="Readiness also fails when a view's newest online rows are older than its TTL by the "
        "wall clock (off for replays of simulated past days, whose requests carry their own times).",
    )
    registry_timeout_s: float = Field(
        default=1.5, gt=0, description="Longest wait for the model registry (MLflow) on an admin call or a "
        "poll: past it the call answers 503 and the poll backs off.",
    )  # fmt: skip
    online_store_timeout_s: float = Field(
        default=2.0, gt=0, description="Socket timeout of Redis reads and writes (added to the connection "
        "string unless it sets socket_timeout itself).",
    )  # fmt: skip
    log_retry_rows: int = Field(
        default=200_000, ge=0, description="Served-feature log: rows kept for retry after a failed write "
        "(a full disk); past it the oldest are dropped and counted.",
    )  # fmt: skip
    alert_webhook_url: str | None = Field(
        default=None, description="Monitoring alerts are POSTed here as JSON (unset: log lines only)."
    )
    admin_token: SecretStr | None = Field(
        default=None, description="Bearer token for the API's admin endpoints; unset disables them."
    )

    @field_validator("redis_connection")
    @classmethod
    def _redis_is_not_a_url(cls, value: str) -> str:
        if "://" in value:
            raise ValueError(
                "redis_connection is Feast's 'host:port,db=N' form, not a URL like redis://host:port"
            )
        return value

    @model_validator(mode="after")
    def _cluster_has_no_database(self) -> Settings:
        # A Redis Cluster has database 0 only (SELECT is refused); say so here, not at the first read.
        if self.redis_type is RedisType.REDIS_CLUSTER:
            databases = [p.strip() for p in self.redis_connection.split(",") if p.strip().startswith("db=")]
            if any(part != "db=0" for part in databases):
                raise ValueError(
                    "redis_type redis_cluster has database 0 only: drop the db= part of redis_connection"
                )
        return self

    @field_validator("alert_webhook_url")
    @classmethod
    def _webhook_is_http(cls, value: str | None) -> str | None:
        # urllib would also open file: and ftp: URLs; a webhook is http(s) only.
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("alert_webhook_url must be an http:// or https:// URL")
        return value or None

    @field_validator("admin_token")
    @classmethod
    def _blank_token_disables_admin(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty variable (compose's ${SKEWLESS_ADMIN_TOKEN:-}) must not mean "the empty token".
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("root_dir")
    @classmethod
    def _absolute_root(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def feature_repo_dir(self) -> Path:
        """The Feast repo: definitions and one feature_store yaml per profile."""
        return self.root_dir / "feature_repo"

    @property
    def tracking_uri(self) -> str:
        """MLflow tracking URI of the profile: a sqlite file (embedded) or the server."""
        if self.profile is Profile.EMBEDDED:
            return f"sqlite:///{self.layout.mlflow_db}"
        return self.mlflow_tracking_uri

    @property
    def layout(self) -> DataLayout:
        """Where every data artifact lives under ``root_dir/data``."""
        return DataLayout(self.root_dir / "data")
