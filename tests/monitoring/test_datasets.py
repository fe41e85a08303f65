"""Drift of any two tables (``skewless drift``): planted changes caught, nothing on a copy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from monitoring.config import DriftRules
from monitoring.dataset_report import write_dataset_report
from monitoring.datasets import compare_datasets
from skewless.errors import DatasetError
from tests.pages import read_page
from tests.servers import screenshot_in_chromium

ROWS = 20_000


def _tables(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A reference, a current table with five planted changes, and an unchanged sample."""
    rng = np.random.default_rng(seed)
    n = 2 * ROWS
    frame = pd.DataFrame(
        {
            "shifted": rng.normal(100, 15, n),
            "scaled": rng.normal(0, 1, n),
            "nulls": rng.exponential(3, n),
            "unseen": rng.choice(["a", "b", "c"], n),
            "mix": rng.choice(["x", "y", "z"], n, p=[0.6, 0.3, 0.1]),
            "steady": rng.lognormal(2, 1, n),
            "code": rng.integers(0, 6, n),
            "flag": rng.random(n) < 0.2,
            "at": pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 86_400 * 30, n), unit="s"),
        }
    )
    reference, rest = frame.iloc[:ROWS].reset_index(drop=True), frame.iloc[ROWS:].reset_index(drop=True)
    unchanged = rest.copy()
    changed = rest.copy()
    changed["shifted"] += 7.5  # half a standard deviation
    changed["scaled"] *= 1.6
    changed.loc[changed.index[: ROWS // 8], "nulls"] = np.nan
    changed.loc[changed.index[: ROWS // 20], "unseen"] = "d"
    changed["mix"] = rng.choice(["x", "y", "z"], ROWS, p=[0.3, 0.3, 0.4])
    return reference, changed, unchanged


def test_every_planted_change_is_caught_with_its_kind_and_effect_size() -> None:
    reference, changed, _ = _tables()
    result = compare_datasets(reference, changed, categorical=["code"])
    statuses = {f.name: f.status for f in result.drift.features}
    assert statuses == {
        "shifted": "drift", "scaled": "drift", "nulls": "null", "unseen": "unseen", "mix": "drift",
        "steady": "ok", "code": "ok", "flag": "ok",
    }  # fmt: skip
    assert result.verdict == "drift" and set(result.categorical) == {"unseen", "mix", "code", "flag"}
    assert result.skipped == {"at": "a date or time: it moves by construction"}
    by_name = {f.name: f for f in result.drift.features}
    assert by_name["shifted"].ks_distance is not None and by_name["shifted"].ks_distance > 0.15
    assert by_name["mix"].js_distance is not None and by_name["mix"].js_distance > 0.1
    assert by_name["nulls"].null_rate == pytest.approx(0.125, abs=0.001)
    assert by_name["unseen"].unseen_categories == ["d"]


def test_an_unchanged_sample_flags_no_column() -> None:
    for seed in range(3):
        reference, _, unchanged = _tables(seed)
        result = compare_datasets(reference, unchanged, categorical=["code"])
        assert result.verdict == "ok" and result.drift.drifted == [], (seed, result.drift.drifted)


def test_thresholds_decide_and_too_few_rows_is_insufficient() -> None:
    reference, changed, _ = _tables()
    loose = DriftRules(ks_min_distance=0.5, wasserstein_min_std=5.0, js_min_distance=0.5)
    strict = compare_datasets(reference, changed, rules=loose)
    assert {f.name for f in strict.drift.features if f.status == "drift"} == set()
    small = compare_datasets(reference, changed.head(50))
    assert small.verdict == "insufficient" and small.drift.drifted == []


def test_files_and_folders_give_the_frames_result(tmp_path: Path) -> None:
    reference, changed, _ = _tables()
    reference.to_parquet(tmp_path / "reference.parquet")
    folder = tmp_path / "current"
    folder.mkdir()
    changed.iloc[: ROWS // 2].to_parquet(folder / "part-0.parquet")
    changed.iloc[ROWS // 2 :].to_parquet(folder / "part-1.parquet")
    changed.drop(columns=["at"]).to_csv(tmp_path / "current.csv", index=False)
    frames = compare_datasets(reference, changed)
    for current in (folder, tmp_path / "current.csv"):
        files = compare_datasets(tmp_path / "reference.parquet", current)
        assert {f.name: f.status for f in files.drift.features} == {
            f.name: f.status for f in frames.drift.features
        }
        assert files.current_rows == ROWS


def test_a_column_missing_from_current_is_absent_and_bad_input_is_named(tmp_path: Path) -> None:
    reference, changed, _ = _tables()
    result = compare_datasets(reference, changed.drop(columns=["steady"]))
    assert {f.name: f.status for f in result.drift.features}["steady"] == "absent"
    with pytest.raises(DatasetError, match="no such file or folder"):
        compare_datasets(tmp_path / "missing.parquet", changed)
    with pytest.raises(DatasetError, match="not columns of the reference: nope"):
        compare_datasets(reference, changed, columns=["nope"])
    (tmp_path / "notes.txt.gz").write_text("x")
    with pytest.raises(DatasetError, match="not a parquet or CSV file"):
        compare_datasets(tmp_path / "notes.txt.gz", changed)


def test_prediction_drift_is_judged_on_its_own() -> None:
    reference, changed, unchanged = _tables()
    reference["p"] = np.random.default_rng(1).beta(1, 20, ROWS)
    unchanged["p"] = np.random.default_rng(2).beta(1, 20, ROWS)
    changed["p"] = np.random.default_rng(3).beta(2, 10, ROWS)
    assert compare_datasets(reference, unchanged, prediction="p").drift.score.status == "ok"  # type: ignore[union-attr]
    moved = compare_datasets(reference, changed, prediction="p")
    assert moved.drift.score is not None and moved.drift.score.status == "drift"
    assert "p" not in {f.name for f in moved.drift.features}


def test_cli_writes_the_report_and_exits_1_on_drift_0_without_2_on_bad_input(tmp_path: Path) -> None:
    reference, changed, unchanged = _tables()
    for name, frame in (("reference", reference), ("changed", changed), ("unchanged", unchanged)):
        frame.to_parquet(tmp_path / f"{name}.parquet")

    def drift(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "lifecycle.cli", "drift", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    found = drift(str(tmp_path / "reference.parquet"), str(tmp_path / "changed.parquet"), "--out",
                  str(tmp_path / "found"))  # fmt: skip
    assert found.returncode == 1, found.stderr
    summary = json.loads(found.stdout)
    assert summary["verdict"] == "drift" and set(summary["drifted"]) == {
        "shifted",
        "scaled",
        "nulls",
        "unseen",
        "mix",
    }
    assert json.loads((tmp_path / "found" / "report.json").read_text())["drifted"] == sorted(
        summary["drifted"], key=list(reference.columns).index
    )
    calm = drift(str(tmp_path / "reference.parquet"), str(tmp_path / "unchanged.parquet"), "--out",
                 str(tmp_path / "calm"))  # fmt: skip
    assert calm.returncode == 0 and json.loads(calm.stdout)["verdict"] == "ok"
    bad = drift(str(tmp_path / "nothing.parquet"), str(tmp_path / "unchanged.parquet"))
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error: no such file or folder")
    assert len(bad.stderr.strip().splitlines()) == 1


def test_the_page_lists_flagged_columns_first_names_above_their_plots_and_no_small_text(
    tmp_path: Path,
) -> None:
    reference, changed, _ = _tables()
    result = compare_datasets(reference, changed, categorical=["code"])
    _, page = write_dataset_report(result, tmp_path)
    markup = page.read_text()
    seen = read_page(markup)
    assert set(seen.headings[:5]) == set(result.drift.drifted)  # flagged first
    assert set(seen.headings[5:]) == {"steady", "code", "flag"}
    assert seen.sections_open_with_their_heading()
    assert seen.font_sizes and min(seen.font_sizes) >= 11
    assert "<th>rule</th>" in markup and "ks_min_distance" in markup
    assert screenshot_in_chromium(page, tmp_path / "drift.png", "1280,1600") > 0.005


def test_categories_read_the_same_on_both_sides_whatever_their_types() -> None:
    """True/False with missing values (object dtype), and a code column that is float in one table
    (a missing value) and integer in the other, are the same categories, not unseen ones."""
    rng = np.random.default_rng(5)
    reference = pd.DataFrame(
        {
            "flag": pd.Series(rng.random(ROWS) < 0.3, dtype=object),
            "code": rng.integers(0, 5, ROWS).astype(float),
        }
    )
    reference.loc[:10, "flag"] = np.nan
    reference.loc[:5, "code"] = np.nan
    current = pd.DataFrame({"flag": rng.random(ROWS) < 0.3, "code": rng.integers(0, 5, ROWS)})
    for other in (reference, current):
        result = compare_datasets(reference, other, categorical=["code"])
        assert {f.name: f.status for f in result.drift.features} == {"flag": "ok", "code": "ok"}
