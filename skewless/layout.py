"""Where each artifact lives on disk, named once.

The feature repo's definitions, the simulator, the feature pipeline and the Feast
configuration all resolve paths through :class:`DataLayout`, so the layout below is
the only place the folder structure is written down::

    data/
      raw/            customers, merchants, transactions, labels, manifest.json
      features/       one folder per feature table, one parquet file per day
      training_sets/  point-in-time training sets, named by content hash
      reports/        evaluation reports (JSON + HTML)
      labels/         the label feed beside raw/labels.parquet: analysts' reviews, ingested exports
      served/         the API's served-feature log, partitioned by date
      deployments/    events.jsonl: deployment changes and automatic canary rollbacks
      monitoring/     reports/<model>-v<N>-<range>/ (JSON + HTML), metrics.prom, decisions.jsonl
      staging/        jobs' work in progress, a folder per job removed when it ends (the spark
                      profile's executors write batch scoring's features here)
      registry.db     Feast file registry (embedded profile)
      online_store.db Feast SQLite online store (embedded profile)
      mlflow.db, mlartifacts/   MLflow tracking + model registry (embedded profile)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DataLayout"]


@dataclass(frozen=True)
class DataLayout:
    """Paths of every artifact below one data folder."""

    root: Path

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def customers(self) -> Path:
        return self.raw_dir / "customers.parquet"

    @property
    def merchants(self) -> Path:
        return self.raw_dir / "merchants.parquet"

    @property
    def transactions(self) -> Path:
        return self.raw_dir / "transactions.parquet"

    @property
    def labels(self) -> Path:
        return self.raw_dir / "labels.parquet"

    @property
    def manifest(self) -> Path:
        return self.raw_dir / "manifest.json"

    @property
    def features_dir(self) -> Path:
        return self.root / "features"

    def feature_table_dir(self, table: str) -> Path:
        """Folder of a partitioned feature table (one ``YYYY-MM-DD.parquet`` per day)."""
        return self.features_dir / table

    def feature_table_glob(self, table: str) -> str:
        """Glob that Feast's DuckDB offline store reads for a partitioned table."""
        return str(self.feature_table_dir(table) / "*.parquet")

    def feature_table_file(self, table: str) -> Path:
        """Single-file (unpartitioned) feature table."""
        return self.features_dir / f"{table}.parquet"

    @property
    def training_sets_dir(self) -> Path:
        """Training sets, one parquet file per content hash (on the spark profile also the folder
        the executors wrote it to, partitioned by split: ``<hash>-by-split``)."""
        return self.root / "training_sets"

    @property
    def staging_dir(self) -> Path:
        """Jobs' work in progress, each in its own folder removed when the job ends."""
        return self.root / "staging"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def label_feed_dir(self) -> Path:
        """Labels beyond the simulator's (``skewless.labels``): one parquet part per batch."""
        return self.root / "labels"

    @property
    def label_files(self) -> list[Path]:
        """Every label file: ``raw/labels.parquet`` and the feed's parts."""
        from skewless.labels import label_files

        return label_files(self.labels, self.label_feed_dir)

    @property
    def served_log_dir(self) -> Path:
        """The API's served-feature log: ``date=YYYY-MM-DD/part-*.parquet``."""
        return self.root / "served"

    @property
    def deployment_events(self) -> Path:
        """Deployment changes and canary rollbacks, one JSON object a line."""
        return self.root / "deployments" / "events.jsonl"

    @property
    def monitoring_dir(self) -> Path:
        """Monitoring reports, the gauges file and the policy's decision record."""
        return self.root / "monitoring"

    @property
    def monitoring_gauges(self) -> Path:
        """The last report's figures as Prometheus gauges (re-exported by the API's /metrics)."""
        return self.monitoring_dir / "metrics.prom"

    @property
    def policy_decisions(self) -> Path:
        """Every retraining-policy decision with its evidence, one JSON object a line."""
        return self.monitoring_dir / "decisions.jsonl"

    @property
    def locks_dir(self) -> Path:
        """One lock file per scheduled job (see ``lifecycle.locks``)."""
        return self.root / "locks"

    @property
    def mlflow_db(self) -> Path:
        """MLflow tracking and model registry (embedded profile)."""
        return self.root / "mlflow.db"

    @property
    def mlflow_artifacts(self) -> Path:
        """MLflow artifact store (embedded profile)."""
        return self.root / "mlartifacts"

    @property
    def registry_db(self) -> Path:
        return self.root / "registry.db"

    @property
    def online_store_db(self) -> Path:
        return self.root / "online_store.db"
