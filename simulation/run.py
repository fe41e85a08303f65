"""Run one simulation and write the raw tables atomically."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from simulation.config import SimulationConfig
from simulation.labels import draw_labels
from simulation.scenarios import get_scenario
from simulation.transactions import draw_transactions
from simulation.world import draw_population
from skewless.atomic import replace_directory, write_parquet_atomic, write_text_atomic
from skewless.layout import DataLayout
from skewless.progress import Progress
from skewless.raw_data import RawDataManifest

__all__ = ["SimulationSummary", "simulate"]


@dataclass(frozen=True)
class SimulationSummary:
    """What one simulation wrote."""

    customers: int
    merchants: int
    transactions: int
    fraud_rate: float
    mean_oracle_score: float


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def simulate(config: SimulationConfig, layout: DataLayout, progress: Progress) -> SimulationSummary:
    """Simulate the world described by ``config`` and write it under ``layout.raw_dir``.

    The previous raw folder is replaced only once every file of the new one is
    written, so an interrupted run leaves the old data intact.

    Args:
        config: period, size, seed and scenario.
        layout: where to write.
        progress: progress reporter.

    Returns:
        Counts and rates of what was written.
    """
    scenario = get_scenario(config.scenario)
    rng = np.random.default_rng(config.seed)
    start = config.to_datetime(config.start)
    period_s = float(config.days * 86_400)
    drift_s = float((config.effective_drift_start - config.start).days * 86_400)

    with progress.step(f"simulate {config.n_customers:,} customers, {config.n_merchants:,} merchants"):
        population = draw_population(rng, config.n_customers, config.n_merchants, start, config.days)
    with progress.step(f"simulate transactions over {config.days} days (scenario '{scenario.name}')"):
        draw = draw_transactions(rng, population, period_s, drift_s, scenario, pd.Timestamp(start))
        labels = draw_labels(rng, draw.transactions, draw.is_fraud)

    summary = SimulationSummary(
        customers=len(population.customers),
        merchants=len(population.merchants),
        transactions=len(draw.transactions),
        fraud_rate=round(float(draw.is_fraud.mean()), 6) if len(draw.is_fraud) else 0.0,
        mean_oracle_score=round(float(draw.transactions["oracle_score"].mean()), 6),
    )
    manifest = RawDataManifest(
        start=config.start,
        end=config.end,
        drift_start=config.effective_drift_start,
        scenario=asdict(scenario),
        scale=config.scale,
        seed=config.seed,
        summary=asdict(summary),
    )
    with progress.step(f"write raw tables to {layout.raw_dir}"), replace_directory(layout.raw_dir) as staging:
        staged = DataLayout(layout.root)
        write_parquet_atomic(_table(population.customers), staging / staged.customers.name)
        write_parquet_atomic(_table(population.merchants), staging / staged.merchants.name)
        write_parquet_atomic(_table(draw.transactions), staging / staged.transactions.name)
        write_parquet_atomic(_table(labels), staging / staged.labels.name)
        write_text_atomic(manifest.to_json(), staging / staged.manifest.name)
    return summary
