"""The lineup and its watcher on our own logic alone: the in-memory registry, small boosters, and the
tiny world's real feature store (every scorer resolves its feature service there)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from feature_repo.operations import feature_service_schema, open_feature_store
from serving.canary import CanaryLimits, LiveComparison
from serving.deployment_events import DeploymentEventLog, read_events
from serving.feature_log import ServedFeatureLog
from serving.lineup import build_lineup, canary_point, read_registry_view
from serving.metrics import ServingMetrics
from serving.watcher import LineupWatcher
from skewless.contract import FEATURE_SERVICE_V1
from skewless.errors import DeploymentRefusedError, ModelNotFoundError, RegistryUnavailableError
from skewless.model_input import FeatureEncoding
from skewless.modes import DeploymentMode
from skewless.registry import (
    CANARY_ROLLBACK_TAG,
    CHALLENGER,
    CHAMPION,
    Deployment,
    InMemoryModelRegistry,
    ModelMetadata,
    TrainingData,
)
from skewless.settings import Settings


@pytest.fixture(scope="module")
def encoding(built_workspace: Settings) -> FeatureEncoding:
    features, categorical = feature_service_schema(open_feature_store(built_workspace), FEATURE_SERVICE_V1)
    return FeatureEncoding(features, {name: ["a", "b"] for name in categorical})


def _booster(encoding: FeatureEncoding, seed: int) -> lgb.Booster:
    rng = np.random.default_rng(seed)
    matrix = rng.normal(size=(400, len(encoding.features)))
    labels = (matrix[:, seed % len(encoding.features)] > 0).astype(int)
    data = lgb.Dataset(matrix, labels, feature_name=encoding.features, free_raw_data=False)
    return lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1, "seed": seed}, data, 5)


def _metadata(encoding: FeatureEncoding) -> ModelMetadata:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    data = TrainingData("hash", "/nowhere.parquet", moment, moment, moment)
    return ModelMetadata("fraud_detection", FEATURE_SERVICE_V1, encoding, 0.5, 5.0, data)


@pytest.fixture
def registry(encoding: FeatureEncoding) -> InMemoryModelRegistry:
    """v1 champion, v2 challenger, both real boosters on the service's features."""
    memory = InMemoryModelRegistry()
    memory.add_version(_booster(encoding, 1), _metadata(encoding), alias=CHAMPION)
    memory.add_version(_booster(encoding, 2), _metadata(encoding), alias=CHALLENGER)
    return memory


def test_the_view_reads_aliases_deployment_and_rollbacks(
    registry: InMemoryModelRegistry, built_workspace: Settings
) -> None:
    view = read_registry_view(registry, built_workspace)
    assert (view.champion_version, view.challenger_version) == (1, 2)
    assert view.requested == Deployment.from_settings(built_workspace) and view.challenger_rolled_back is None
    registry.set_alias(CHALLENGER, 1)  # a challenger that is the champion is no challenger
    assert read_registry_view(registry, built_workspace).challenger_version is None
    registry.delete_alias(CHAMPION)
    with pytest.raises(ModelNotFoundError, match="alias 'champion'"):
        read_registry_view(registry, built_workspace)


def test_the_mode_in_force_falls_back_to_single_with_the_reason(
    registry: InMemoryModelRegistry, built_workspace: Settings
) -> None:
    store = open_feature_store(built_workspace)
    registry.write_deployment(Deployment(DeploymentMode.CANARY, 0.3, "by hand"))
    canary = build_lineup(registry, store, built_workspace, read_registry_view(registry, built_workspace))
    assert canary.mode is DeploymentMode.CANARY and canary.challenger_version == 2 and canary.note == ""
    customers = range(1, 2_001)
    on_challenger = [c for c in customers if canary.arm_of(c) == "challenger"]
    assert on_challenger == [c for c in customers if canary_point(c) < 0.3]
    # Rolled back from canary: the same request is honoured as single, and says why.
    registry.record_canary_rollback(2, ["ranks unlike the champion"], {})
    view = read_registry_view(registry, built_workspace)
    assert not canary.matches(view)
    single = build_lineup(registry, store, built_workspace, view, canary)
    assert single.mode is DeploymentMode.SINGLE and "rolled back from canary" in single.note
    assert (
        single.champion is canary.champion and single.challenger is canary.challenger
    )  # reused, not reloaded
    assert {single.arm_of(c) for c in customers} == {"champion"}
    # A challenger that cannot be loaded: the champion serves alone, and the note says so.
    broken = registry.add_version(None, _metadata(single.champion.model.encoding), alias=CHALLENGER)
    fallback = build_lineup(registry, store, built_workspace, read_registry_view(registry, built_workspace))
    assert fallback.challenger is None and f"v{broken} could not be loaded" in fallback.note
    assert fallback.mode is DeploymentMode.SINGLE


def _watcher(registry: InMemoryModelRegistry, settings: Settings, folder: Path) -> LineupWatcher:
    store = open_feature_store(settings)
    lineup = build_lineup(registry, store, settings, read_registry_view(registry, settings))
    comparison = LiveComparison(CanaryLimits(min_requests=50, window=500))
    log = ServedFeatureLog(folder / "served", flush_rows=100, flush_seconds=1.0, queue_size=100)
    events = DeploymentEventLog(folder / "events.jsonl")
    return LineupWatcher(settings, registry, store, lineup, ServingMetrics(), comparison, log, events)


def test_the_watcher_follows_the_registry_and_survives_it_going_away(
    registry: InMemoryModelRegistry, built_workspace: Settings, tmp_path: Path, encoding: FeatureEncoding
) -> None:
    watcher = _watcher(registry, built_workspace, tmp_path)
    assert not watcher.reload().changed
    newer = registry.add_version(_booster(encoding, 3), _metadata(encoding))
    registry.promote(newer)
    moved = watcher.reload()
    assert moved.changed and (moved.from_version, moved.to_version) == (1, newer)
    assert watcher.lineup.champion.model.version == newer and watcher.lineup.champion.model.alias == CHAMPION
    assert "skewless_model_reloads_total 1.0" in _metrics(watcher)
    registry.available = False
    with pytest.raises(RegistryUnavailableError):
        watcher.reload()
    watcher.poll()  # a poll counts the failure and keeps serving what it has
    assert "skewless_model_reload_errors_total 1.0" in _metrics(watcher)
    assert watcher.lineup.champion.model.version == newer


def test_an_admin_deployment_is_checked_recorded_and_applied_at_once(
    registry: InMemoryModelRegistry, built_workspace: Settings, tmp_path: Path
) -> None:
    watcher = _watcher(registry, built_workspace, tmp_path)
    lineup = watcher.set_deployment(DeploymentMode.SHADOW, 0.2)
    assert watcher.lineup is lineup and lineup.mode is DeploymentMode.SHADOW
    assert registry.deployment(Deployment(DeploymentMode.SINGLE, 0.0)).mode is DeploymentMode.SHADOW
    registry.delete_alias(CHALLENGER)
    with pytest.raises(DeploymentRefusedError, match="no challenger to canary"):
        watcher.set_deployment(DeploymentMode.CANARY, 0.2)
    assert watcher.lineup is lineup  # refused: nothing changed
    events = [e["why"] for e in read_events(tmp_path / "events.jsonl") if e["event"] == "deployment"]
    assert events == ["set by an admin"]


def test_a_departing_canary_is_rolled_back_and_the_registry_remembers(
    registry: InMemoryModelRegistry, built_workspace: Settings, tmp_path: Path
) -> None:
    watcher = _watcher(registry, built_workspace, tmp_path)
    watcher.set_deployment(DeploymentMode.CANARY, 0.5)
    rng = np.random.default_rng(0)
    champion_scores = rng.beta(0.3, 12.0, 300)
    for score in champion_scores:
        watcher.comparison.record("champion", 0.5, [float(score)])
        watcher.comparison.record("challenger", 0.5, [0.015])  # a constant challenger ranks nothing
    watcher.comparison.record_pairs(champion_scores.tolist(), [0.015] * 300)
    verdict = watcher.check_canary()
    assert verdict.departed and watcher.lineup.mode is DeploymentMode.SINGLE
    assert "automatic canary rollback of v2" in watcher.lineup.requested.reason
    record = json.loads(registry.version_tags(2)[CANARY_ROLLBACK_TAG])
    assert record["reasons"] == verdict.reasons
    assert registry.deployment(Deployment(DeploymentMode.CANARY, 0.1)).mode is DeploymentMode.SINGLE
    with pytest.raises(DeploymentRefusedError, match="rolled back from canary"):
        watcher.set_deployment(DeploymentMode.CANARY, 0.5)


def _metrics(watcher: LineupWatcher) -> str:
    from prometheus_client import generate_latest

    return generate_latest(watcher.metrics.registry).decode()
