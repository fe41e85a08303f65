"""`skewless labels ingest`: a case-management export checked, stored, and refused whole when wrong."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from skewless.settings import Settings
from tests.cli import run_cli
from tests.factories import make_workspace


def _workspace_with_transactions(built_workspace: Settings, root: Path) -> tuple[Settings, pd.DataFrame]:
    settings = make_workspace(root)
    settings.layout.raw_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(built_workspace.layout.transactions, settings.layout.transactions)
    transactions = pd.read_parquet(
        settings.layout.transactions, columns=["transaction_id", "transaction_time"]
    )
    return settings, transactions.head(3)


def test_an_export_is_stored_then_a_bad_one_is_refused_whole(
    built_workspace: Settings, tmp_path: Path
) -> None:
    settings, three = _workspace_with_transactions(built_workspace, tmp_path / "ws")
    later = three["transaction_time"] + pd.Timedelta(hours=6)
    good = pd.DataFrame(
        {"transaction_id": three["transaction_id"][:2], "is_fraud": [1, 0],
         "label_time": later[:2].dt.strftime("%Y-%m-%dT%H:%M:%S%z"), "source": "investigation"}
    )  # fmt: skip
    export = tmp_path / "cases-monday.csv"
    good.to_csv(export, index=False)
    stored = run_cli(settings.root_dir, "labels", "ingest", str(export))
    assert stored.returncode == 0, stored.stderr
    answer = json.loads(stored.stdout)
    assert answer["rows"] == 2 and answer["frauds"] == 1 and answer["sources"] == {"investigation": 2}
    (stored_batch,) = settings.layout.label_feed_dir.glob("cases-monday-*.parquet")  # stem and content hash
    feed = pd.read_parquet(stored_batch)
    assert feed["transaction_id"].tolist() == good["transaction_id"].tolist()

    twice = run_cli(settings.root_dir, "labels", "ingest", str(export))
    assert twice.returncode == 2 and "is already in the feed" in twice.stderr  # the same export again
    again = run_cli(settings.root_dir, "labels", "ingest", str(export), "--name", "cases-tuesday")
    assert again.returncode == 2 and "2 label(s) already in the feed from the same source" in again.stderr
    bad = pd.DataFrame(
        {"transaction_id": [three["transaction_id"].iloc[2], 987_654_321],
         "is_fraud": [1, 1], "source": ["chargeback", "chargeback"],
         "label_time": [(three["transaction_time"].iloc[2] - pd.Timedelta(days=1)).isoformat(),
                        later.iloc[0].isoformat()]}
    )  # fmt: skip
    wrong = tmp_path / "wrong.csv"
    bad.to_csv(wrong, index=False)
    refused = run_cli(settings.root_dir, "labels", "ingest", str(wrong))
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert "for transactions that do not exist (transaction_id 987654321)" in refused.stderr
    assert "known before their transaction happened" in refused.stderr
    assert [p.name for p in settings.layout.label_feed_dir.iterdir()] == [stored_batch.name]
    missing = run_cli(settings.root_dir, "labels", "ingest", str(tmp_path / "nothing.csv"))
    assert missing.returncode == 4 and "no label file at" in missing.stderr
