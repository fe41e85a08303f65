"""Drift statuses on hand-made windows: shifts, unseen categories, nulls, tiny and empty windows."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from monitoring.config import DriftRules
from monitoring.drift import FeatureDrift, WindowDrift, judge_window
from monitoring.reference import ModelReference
from monitoring.windows import summarise_range
from tests.monitoring.synthetic import (
    CATEGORICAL,
    DAY_ONE,
    NUMERIC,
    reference_of,
    served_frame,
    training_frame,
    write_log,
)

DAY = timedelta(days=1)


def judged(tmp_path: Path, reference: ModelReference, served: pd.DataFrame) -> WindowDrift:
    log = write_log(tmp_path / "served", [served_frame(served, DAY_ONE, DAY)])
    total, _ = summarise_range(log, reference.features, reference.score, DAY_ONE, DAY_ONE + DAY)
    return judge_window(reference, total, DriftRules())


def feature(window: WindowDrift, name: str) -> FeatureDrift:
    return next(f for f in window.features if f.name == name)


def test_a_fresh_sample_of_the_training_distribution_is_ok(tmp_path: Path) -> None:
    window = judged(tmp_path, reference_of(training_frame()), training_frame(3_000, seed=1))
    assert window.verdict == "ok" and window.drifted == []
    assert feature(window, NUMERIC).ks_distance is not None and feature(window, NUMERIC).ks_distance < 0.05  # type: ignore[operator]


def test_a_shifted_numeric_feature_drifts_and_a_tiny_shift_on_a_large_window_does_not(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    shifted = training_frame(3_000, seed=1)
    shifted[NUMERIC] *= 1.6
    window = judged(tmp_path / "a", reference, shifted)
    assert window.verdict == "drift" and window.drifted == [NUMERIC]
    assert feature(window, NUMERIC).reasons[0].startswith("KS distance")

    # 3% more on 100,000 rows: significant, but under the 0.10 KS distance the rule asks for.
    nudged = training_frame(100_000, seed=2)
    nudged[NUMERIC] *= 1.03
    window = judged(tmp_path / "b", reference, nudged)
    amount = feature(window, NUMERIC)
    assert amount.ks_p_value is not None and amount.ks_p_value < window.alpha_per_test
    assert amount.status == "ok" and window.verdict == "ok"


def test_unseen_categories_are_flagged_with_their_names_above_the_share_rule(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    served = training_frame(2_000, seed=1)
    served.loc[:99, CATEGORICAL] = "crypto"  # 5% in a category training never saw
    channel = feature(judged(tmp_path / "a", reference, served), CATEGORICAL)
    assert channel.status == "unseen"
    assert channel.unseen_share == 0.05 and channel.unseen_categories == ["crypto"]
    assert "crypto" in channel.reasons[0]

    served = training_frame(2_000, seed=1)
    served.loc[:9, CATEGORICAL] = "crypto"  # 0.5%: under the 1% rule
    channel = feature(judged(tmp_path / "b", reference, served), CATEGORICAL)
    assert channel.status == "ok" and channel.unseen_share == 0.005


def test_a_broken_pipeline_is_null_first_for_numeric_and_categorical_alike(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    served = training_frame(2_000, seed=1)
    served.loc[:1_199, [NUMERIC, CATEGORICAL]] = None  # 60% null ...
    served.loc[1_200:, NUMERIC] = 10.0  # ... and one value in the rest
    served.loc[1_200:, CATEGORICAL] = "pos"
    window = judged(tmp_path, reference, served)
    for name in (NUMERIC, CATEGORICAL):
        broken = feature(window, name)
        assert broken.status == "null", broken
        assert broken.reasons[0].startswith("null rate 60.0%")
        assert any(reason.startswith("every value is") for reason in broken.reasons[1:])
    assert window.verdict == "drift" and set(window.drifted) == {NUMERIC, CATEGORICAL}


def test_tiny_and_empty_windows_are_insufficient_not_drift(tmp_path: Path) -> None:
    reference = reference_of(training_frame())
    shifted = training_frame(50, seed=1)
    shifted[NUMERIC] *= 5.0  # a large shift, but only 50 rows
    tiny = judged(tmp_path, reference, shifted)
    assert tiny.verdict == "insufficient" and tiny.drifted == []
    assert {f.status for f in tiny.features} == {"insufficient"}
    assert "50 values, fewer than 200" in feature(tiny, NUMERIC).reasons[0]

    _, windows = summarise_range(
        tmp_path / "served", reference.features, reference.score, DAY_ONE + DAY, DAY_ONE + 2 * DAY
    )
    empty = judge_window(reference, windows[0], DriftRules())
    assert empty.rows == 0 and empty.verdict == "insufficient"
    assert {f.status for f in empty.features} == {"insufficient"}
    assert empty.score is not None and empty.score.status == "insufficient"
    assert np.isclose(empty.share_drifted, 0.0)
