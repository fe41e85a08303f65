"""The training job: dataset → validation → fit → evaluate → profile → MLflow → challenger.

Validation runs before fitting. A failure writes the validation report and stops,
and nothing is logged or registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb

from feature_repo.operations import feature_entities, feature_refs, open_feature_store
from skewless.atomic import write_text_atomic
from skewless.model_input import FeatureEncoding
from skewless.progress import Progress
from skewless.reference_profile import build_reference_profile
from skewless.registry import CHALLENGER, CHAMPION, MlflowModelRegistry, ModelRegistry
from skewless.settings import Settings
from training.config import TrainingConfig
from training.dataset import LABEL, TrainingSet, build_training_set
from training.evaluation import Evaluation, choose_threshold, evaluate_model
from training.model import predict, train_model
from training.registry import evaluation_set
from training.report import Comparison, write_evaluation_report
from training.tracking import FeastLineage, LoggedRun, log_training_run
from training.validation import validate_training_set

__all__ = ["TrainingOutcome", "evaluate_registered", "train_and_register"]


@dataclass(frozen=True)
class TrainingOutcome:
    """What one training job produced."""

    run: LoggedRun
    evaluation: Evaluation
    report_html: Path
    report_json: Path
    training_set: TrainingSet

    @property
    def dataset_path(self) -> Path:
        return self.training_set.path

    @property
    def dataset_hash(self) -> str:
        return self.training_set.content_hash


def _champion_comparison(
    registry: ModelRegistry, ts: TrainingSet, review_cost: float, exclude: int | None = None
) -> Comparison | None:
    """The champion's scores on the same holdout rows and its cost curve on the same validation rows;
    None without a champion (or when it is ``exclude``), or when it needs features the set lacks."""
    version = registry.alias_version(CHAMPION)
    if version is None or version == exclude:
        return None
    champion = registry.load(version)
    if any(feature not in ts.frame.columns for feature in champion.encoding.features):
        return None
    holdout, validation = ts.split("holdout"), ts.split("validation")
    _, curve = choose_threshold(
        validation[LABEL].to_numpy(),
        predict(champion.booster, champion.encoding, validation),
        validation["amount"].to_numpy(),
        review_cost,
    )
    scores = predict(champion.booster, champion.encoding, holdout)
    return Comparison(f"champion v{version}", scores, curve)


def _write_report(
    evaluation: Evaluation,
    booster: lgb.Booster,
    encoding: FeatureEncoding,
    ts: TrainingSet,
    folder: Path,
    title: str,
    champion: Comparison | None = None,
) -> tuple[Path, Path]:
    """The evaluation report of ``booster`` on the holdout of ``ts`` (JSON and HTML paths)."""
    holdout = ts.split("holdout")
    return write_evaluation_report(
        evaluation,
        holdout[LABEL].to_numpy(),
        predict(booster, encoding, holdout),
        holdout["oracle_score"].to_numpy(),
        folder,
        title,
        booster=booster,
        champion=champion,
    )


def train_and_register(
    settings: Settings, registry: MlflowModelRegistry, config: TrainingConfig, progress: Progress
) -> TrainingOutcome:
    """Train on the feature service's point-in-time data and register a ``challenger``.

    Args:
        settings: the workspace (feature store, data, reports) and its profile.
        registry: where the run is logged and the version registered.
        config: data window, splits, LightGBM parameters and costs.
        progress: progress reporter.

    Raises:
        DataValidationError: the training set failed a check (report under data/reports/).
        DataNotFoundError, FeatureRepoError, InvalidDateRangeError: inputs missing or wrong.
    """
    layout, name = settings.layout, registry.model_name
    store = open_feature_store(settings)
    ts = build_training_set(store, layout, config, progress)
    with progress.step("validate the training set"):
        report = validate_training_set(ts, config.validation)
        write_text_atomic(report.to_json(), layout.reports_dir / f"validation-{ts.content_hash[:16]}.json")
        report.raise_for_failures()
    with progress.step(f"train LightGBM on {int((ts.frame['split'] == 'train').sum()):,} rows"):
        model = train_model(ts, config)
    with progress.step("evaluate on the holdout"):
        evaluation = evaluate_model(model.booster, model.encoding, ts, config.review_cost)
        report_dir = layout.reports_dir / f"{name}-{ts.content_hash[:16]}"
        report_json, report_html = _write_report(
            evaluation,
            model.booster,
            model.encoding,
            ts,
            report_dir,
            f"{name} on {ts.feature_service}: evaluation",
            _champion_comparison(registry, ts, config.review_cost),
        )
        train = ts.uniform_sample("train")  # the split as served traffic has it, if its rows were sampled
        profile = build_reference_profile(
            train,
            ts.features,
            ts.categorical,
            predict(model.booster, model.encoding, train),
            feature_entities(store, ts.feature_service),
        )
    with progress.step("log the run to MLflow and register the model"):
        lineage = FeastLineage(store.project, feature_refs(store, ts.feature_service))
        run = log_training_run(
            registry, settings.root_dir, config, ts, model, evaluation, profile, report.to_json(), report_dir,
            lineage,
        )  # fmt: skip
        registry.set_alias(CHALLENGER, run.version)
    return TrainingOutcome(run, evaluation, report_html, report_json, ts)


def evaluate_registered(
    settings: Settings, registry: ModelRegistry, config: TrainingConfig, ref: str | int, progress: Progress
) -> tuple[Evaluation, Path]:
    """Re-run the evaluation suite for a registered version on its own holdout; returns the HTML path.

    Raises:
        ModelNotFoundError: no such version or alias.
    """
    name = registry.model_name
    model = registry.load(ref)
    ts = evaluation_set(registry, model)
    with progress.step(f"evaluate {name} v{model.version}"):
        evaluation = evaluate_model(model.booster, model.encoding, ts, config.review_cost, model.threshold)
        _, html_path = _write_report(
            evaluation,
            model.booster,
            model.encoding,
            ts,
            settings.layout.reports_dir / f"{name}-v{model.version}",
            f"{name} v{model.version}: evaluation",
            _champion_comparison(registry, ts, config.review_cost, exclude=model.version),
        )
    return evaluation, html_path
