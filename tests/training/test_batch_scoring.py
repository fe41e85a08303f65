"""Batch inference (``skewless score``): point-in-time features of the model's own service, the model's
own scores, one partition per day; equal to /predict for the same transaction (tests/serving/test_api.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skewless.errors import InputError
from skewless.registry import CHAMPION
from tests.conftest import QUIET
from tests.worlds import TrainedWorld
from training.batch_scoring import REQUIRED_COLUMNS, score_transactions
from training.model import predict

pytestmark = pytest.mark.integration


def _transactions(world: TrainedWorld, split: str = "holdout") -> pd.DataFrame:
    rows = world.training_set.frame.query(f"split == '{split}'")
    return rows[["transaction_id", *REQUIRED_COLUMNS]].reset_index(drop=True)


def test_batch_scores_are_the_models_scores_on_its_point_in_time_rows(
    trained_world: TrainedWorld, tmp_path: Path
) -> None:
    transactions = _transactions(trained_world)
    transactions.to_parquet(tmp_path / "transactions.parquet")
    out = tmp_path / "scores"
    scored = score_transactions(
        trained_world.settings,
        trained_world.registry,
        tmp_path / "transactions.parquet",
        CHAMPION,
        out,
        QUIET,
    )
    model = trained_world.registry.load(CHAMPION)
    days = transactions["transaction_time"].dt.strftime("%Y-%m-%d").unique()
    assert scored.rows == len(transactions) and scored.days == len(days) == len(scored.files)
    assert sorted(p.parent.name for p in scored.files) == sorted(f"date={day}" for day in days)
    written = pd.concat([pd.read_parquet(path) for path in scored.files], ignore_index=True)
    assert len(written) == len(transactions)
    assert set(written["model_version"]) == {model.version} and set(written["feature_service"]) == {
        "fraud_detection_v1"
    }
    # The same features training read at the same instants, hence the same scores.
    holdout = trained_world.training_set.frame.query("split == 'holdout'").set_index("transaction_id")
    expected = pd.Series(predict(model.booster, model.encoding, holdout), index=holdout.index)
    got = written.set_index("transaction_id")["score"].sort_index()
    assert got.index.equals(expected.sort_index().index)  # the same transactions, each once
    np.testing.assert_allclose(got, expected.sort_index(), rtol=0, atol=1e-12)
    review = written["score"] >= model.threshold
    assert (written["decision"] == np.where(review, "review", "approve")).all()
    assert scored.flagged == int(review.sum())


def test_bad_transactions_are_refused_with_the_reason(trained_world: TrainedWorld, tmp_path: Path) -> None:
    transactions = _transactions(trained_world).head(5)
    with pytest.raises(InputError, match="lack the column.s. channel"):
        score_transactions(
            trained_world.settings, trained_world.registry, transactions.drop(columns="channel"), CHAMPION,
            tmp_path, QUIET,
        )  # fmt: skip
    naive = transactions.assign(transaction_time=transactions["transaction_time"].dt.tz_localize(None))
    with pytest.raises(InputError, match="time zone"):
        score_transactions(trained_world.settings, trained_world.registry, naive, CHAMPION, tmp_path, QUIET)


def test_the_cli_scores_a_csv_and_names_a_missing_column_in_one_line(
    trained_world: TrainedWorld, tmp_path: Path
) -> None:
    transactions = _transactions(trained_world).head(50)
    transactions.to_csv(tmp_path / "transactions.csv", index=False)
    transactions.drop(columns="amount").to_csv(tmp_path / "no_amount.csv", index=False)

    def score(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "lifecycle.cli", "--root-dir", str(trained_world.settings.root_dir),
                   "score", *args]  # fmt: skip
        return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)

    done = score(str(tmp_path / "transactions.csv"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["rows"] == 50 and summary["feature_service"] == "fraud_detection_v1"
    assert len(list((tmp_path / "out").glob("date=*/part-0.parquet"))) == summary["days"]
    refused = score(str(tmp_path / "no_amount.csv"))
    assert refused.returncode == 2 and refused.stderr.strip().count("\n") == 0
    assert "lack the column(s) amount" in refused.stderr
