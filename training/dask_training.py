"""LightGBM past one machine: the same model, fitted by ``lightgbm.dask`` on a Dask cluster.

Chosen by :func:`training.model.train_model` when the train split holds at least
``TrainingConfig.dask_min_rows`` rows. The encoded matrix is split into one chunk per worker
and LightGBM trains data-parallel across them (its own sockets between workers); the result is
a native ``lightgbm.Booster``, so MLflow logs it and the API serves it exactly as a booster
trained on one machine. ``lightgbm.dask`` has no early stopping (and its validation metrics are
each worker's share of the validation rows only): it fits ``max_rounds``, then the driver scores
the whole validation split tree by tree and cuts the booster at the best round by PR-AUC, stopping
the search ``early_stopping_rounds`` after it, as early stopping does on one machine. The train
rows are shuffled (seeded) before they are split: each worker finds the bin boundaries of some
features from its own rows, so each must hold a sample of the whole period, not a slice of it
(time-ordered halves gave holdout AUCs 0.03 apart by which worker got which half).
``dask_scheduler`` names a running cluster (``tcp://host:8786``); without it a ``LocalCluster``
of ``dask_workers`` processes on loopback is started for the fit and stopped after. What this
spreads is the fit (memory and CPU of the histograms, per worker); the training set itself is
still built and encoded on the driver, so the driver must hold it once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import lightgbm as lgb
import numpy as np

from skewless.model_input import FeatureEncoding
from training.config import TrainingConfig
from training.dataset import LABEL, TrainingSet

__all__ = ["best_round", "dask_client", "train_model_on_dask"]


@contextmanager
def dask_client(config: TrainingConfig) -> Iterator[Any]:
    """A client of ``config.dask_scheduler``, or of a local cluster started for the block."""
    from distributed import Client, LocalCluster

    if config.dask_scheduler:
        with Client(config.dask_scheduler) as client:
            yield client
        return
    with (
        LocalCluster(
            n_workers=config.dask_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):  # fmt: skip
        yield client


def best_round(booster: lgb.Booster, matrix: np.ndarray, labels: np.ndarray, patience: int) -> int:
    """The round (1-based) with the best validation PR-AUC, searched tree by tree until ``patience``
    rounds pass without a better one."""
    from sklearn.metrics import average_precision_score

    raw = np.zeros(len(labels))
    best, best_score = 1, -np.inf
    for round_ in range(1, booster.current_iteration() + 1):
        raw += booster.predict(matrix, start_iteration=round_ - 1, num_iteration=1, raw_score=True)
        score = float(average_precision_score(labels, raw))  # ranks only: raw scores will do
        if score > best_score:
            best, best_score = round_, score
        elif round_ - best >= patience:
            break
    return best


def train_model_on_dask(
    ts: TrainingSet, config: TrainingConfig
) -> tuple[lgb.Booster, FeatureEncoding, dict[str, Any], int]:
    """Fit on Dask; returns the booster cut at its best validation round, the encoding, the
    parameters and the best round."""
    import dask.array as da
    from lightgbm.dask import DaskLGBMClassifier

    train, valid = ts.split("train"), ts.split("validation")
    train = train.sample(frac=1.0, random_state=config.seed)  # see the module's notes
    encoding = FeatureEncoding.fit(train, ts.features, ts.categorical)
    params = config.lightgbm_params() | {"tree_learner": "data"}
    with dask_client(config) as client:
        client.wait_for_workers(1)
        workers = len(client.scheduler_info()["workers"])

        def chunked(values: np.ndarray) -> Any:
            """One chunk per worker, sent to the workers (not carried in the task graph)."""
            rows = -(-len(values) // workers)
            parts = [values[i : i + rows] for i in range(0, len(values), rows)]
            futures = client.scatter(parts)
            return da.concatenate(
                [
                    da.from_delayed(f, shape=p.shape, dtype=p.dtype)
                    for f, p in zip(futures, parts, strict=True)
                ]
            )

        weight = train["weight"].to_numpy() if "weight" in train.columns else None
        model = DaskLGBMClassifier(
            client=client, n_estimators=config.max_rounds,
            **{k: v for k, v in params.items() if k not in ("metric", "first_metric_only", "num_threads")},
            num_threads=max(1, config.num_threads // workers),
        )  # fmt: skip
        model.fit(
            chunked(encoding.encode(train)), chunked(train[LABEL].to_numpy()),
            sample_weight=chunked(weight) if weight is not None else None,
            feature_name=encoding.features, categorical_feature=encoding.categorical,
        )  # fmt: skip
        booster = model.booster_
    best = best_round(booster, encoding.encode(valid), valid[LABEL].to_numpy(), config.early_stopping_rounds)
    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    return trimmed, encoding, params | {"dask_workers": workers}, best
