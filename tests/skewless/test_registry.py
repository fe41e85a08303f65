"""The model-registry client: one contract, run against MLflow (a real sqlite store) and the
shipped in-memory double alike, so the double is as strict as the real thing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from skewless.errors import (
    DeploymentRefusedError,
    ModelNotFoundError,
    PromotionRefusedError,
    RegistryUnavailableError,
)
from skewless.model_input import FeatureEncoding
from skewless.modes import DeploymentMode
from skewless.registry import (
    CHALLENGER,
    CHAMPION,
    DEPLOYMENT_TAG,
    METADATA_ARTIFACT,
    Deployment,
    InMemoryModelRegistry,
    MlflowModelRegistry,
    ModelMetadata,
    ModelRegistry,
    TrainingData,
)

DEFAULT = Deployment(DeploymentMode.SINGLE, 0.1, "from settings")
AddVersion = Callable[[], int]


def metadata(threshold: float = 0.04) -> ModelMetadata:
    moment = datetime(2026, 3, 1, tzinfo=UTC)
    return ModelMetadata(
        model_name="fraud_detection",
        feature_service="fraud_detection_v1",
        encoding=FeatureEncoding(["amount", "channel"], {"channel": ["online", "in_store"]}),
        decision_threshold=threshold,
        review_cost=5.0,
        training_data=TrainingData(
            "abc123", "/tmp/set.parquet", moment, moment, moment, {"train": 10}, legit_sample_rate=0.25
        ),
        evaluation={"holdout_roc_auc": 0.91},
    )


@pytest.fixture(params=["mlflow", "memory"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ModelRegistry, AddVersion]]:
    """A registry of each kind, and a way to register a version carrying :func:`metadata`."""
    if request.param == "memory":
        memory = InMemoryModelRegistry()
        yield memory, lambda: memory.add_version(metadata=metadata())
        return
    real = MlflowModelRegistry(
        f"sqlite:///{tmp_path / 'mlflow.db'}", "fraud_detection", (tmp_path / "art").as_uri()
    )

    def add() -> int:
        client = real.client
        run = client.create_run(real.experiment_id("fraud_detection"))
        client.log_text(run.info.run_id, json.dumps(metadata().to_dict()), METADATA_ARTIFACT)
        if not client.search_registered_models(f"name = '{real.model_name}'"):
            client.create_registered_model(real.model_name)
        source = f"runs:/{run.info.run_id}/model"
        return int(client.create_model_version(real.model_name, source, run.info.run_id).version)

    yield real, add


def test_versions_and_aliases_resolve_or_name_what_is_missing(
    registry: tuple[ModelRegistry, AddVersion],
) -> None:
    store, add = registry
    assert store.versions() == [] and store.aliases() == {} and store.alias_version(CHAMPION) is None
    with pytest.raises(ModelNotFoundError, match="'fraud_detection' has no version with alias 'champion'"):
        store.resolve(CHAMPION)
    first, second = add(), add()
    assert store.versions() == [first, second] == [1, 2]
    store.set_alias(CHAMPION, first)
    assert store.resolve(CHAMPION) == first and store.resolve("2") == 2 and store.resolve(2) == 2
    with pytest.raises(ModelNotFoundError, match="has no version 7"):
        store.resolve(7)
    store.delete_alias(CHAMPION)
    store.delete_alias(CHAMPION)  # twice: nothing to remove is not an error
    assert store.alias_version(CHAMPION) is None


def test_metadata_is_typed_both_ways(registry: tuple[ModelRegistry, AddVersion]) -> None:
    store, add = registry
    version = add()
    read = store.metadata(version)
    assert read == metadata()
    assert read.holdout_auc == 0.91 and read.encoding.categorical == ["channel"]
    with pytest.raises(ModelNotFoundError):
        store.read_json(version, "no/such/artifact.json")


def test_the_deployment_round_trips_and_falls_back_to_the_default(
    registry: tuple[ModelRegistry, AddVersion],
) -> None:
    store, add = registry
    assert store.deployment(DEFAULT) == DEFAULT  # not even registered yet
    add()
    canary = Deployment(DeploymentMode.CANARY, 0.25, "set by an admin")
    store.write_deployment(canary)
    assert store.deployment(DEFAULT) == canary
    store.set_model_tag(DEPLOYMENT_TAG, '{"mode": "sideways"}')  # hand-edited, unreadable
    assert store.deployment(DEFAULT) == DEFAULT
    assert store.forget_deployment() == ["deployment tag"] and store.deployment(DEFAULT) == DEFAULT


def test_a_deployment_is_refused_when_it_cannot_be_honoured(
    registry: tuple[ModelRegistry, AddVersion],
) -> None:
    store, add = registry
    champion = add()
    store.set_alias(CHAMPION, champion)
    with pytest.raises(DeploymentRefusedError, match="no challenger to shadow"):
        store.request_deployment(DeploymentMode.SHADOW, 0.1, "by hand")
    with pytest.raises(DeploymentRefusedError, match="within \\[0, 1\\]"):
        store.request_deployment(DeploymentMode.SINGLE, 1.5, "by hand")
    challenger = add()
    store.set_alias(CHALLENGER, challenger)
    assert store.request_deployment(DeploymentMode.CANARY, 0.2, "by hand").canary_share == 0.2
    assert store.waiting_challenger() == challenger
    store.record_canary_rollback(challenger, ["ranks unlike the champion"], {"pairs": 300})
    assert store.canary_rollback(challenger) == "ranks unlike the champion"
    assert (
        store.waiting_challenger() is None
        and store.waiting_challenger(include_rolled_back=True) == challenger
    )
    with pytest.raises(DeploymentRefusedError, match=f"v{challenger} was rolled back from canary"):
        store.request_deployment(DeploymentMode.CANARY, 0.2, "by hand")
    assert store.request_deployment(DeploymentMode.SHADOW, 0.2, "by hand").mode is DeploymentMode.SHADOW
    assert store.request_deployment(DeploymentMode.SINGLE, 0.2, "by hand").mode is DeploymentMode.SINGLE


def test_promotion_remembers_the_champion_it_replaced_and_rollback_follows_it(
    registry: tuple[ModelRegistry, AddVersion],
) -> None:
    store, add = registry
    with pytest.raises(PromotionRefusedError, match="has no champion to roll back"):
        store.roll_back_champion()
    first, second = add(), add()
    assert store.promote(first) is None
    with pytest.raises(PromotionRefusedError, match="replaced no earlier champion"):
        store.roll_back_champion()
    store.set_alias(CHALLENGER, second)
    assert store.promote(second) == first
    assert store.aliases() == {CHAMPION: second}  # the challenger alias left the promoted version
    assert store.roll_back_champion() == (second, first)
    assert store.alias_version(CHAMPION) == first and store.version_tags(second)["rolled_back"] == "true"
    assert store.forget_deployment() == [f"alias {CHAMPION}"] and store.aliases() == {}


def test_a_registry_that_cannot_be_reached_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    memory = InMemoryModelRegistry()
    memory.add_version(metadata=metadata())
    memory.available = False
    with pytest.raises(RegistryUnavailableError):
        memory.aliases()
    # Nothing listens on port 9 of loopback: MLflow's client gives up, and we say where it tried.
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    down = MlflowModelRegistry("http://127.0.0.1:9", "fraud_detection")
    with pytest.raises(RegistryUnavailableError, match="127.0.0.1:9"):
        down.aliases()
