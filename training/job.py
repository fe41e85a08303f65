"""The training job: dataset → validation → fit → evaluate → profile → MLflow → challenger.

Validation runs before fitting. A failure writes the validation report and stops,
and nothing is logged or registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb

from feature_repo.operations import feature_entities, open_feature_store
from skewless.atomic import write_text_atomic
from skewless.model_input import FeatureEncoding
from skewless.progress import Progress
from skewless.settings import Settings
from skewless.tracking import configure_mlflow
from training.config import TrainingConfig
from training.dataset import LABEL, TrainingSet, build_training_set
from training.evaluation import Evaluation, evaluate_model
from training.model import predict, train_model
from training.reference_profile import build_reference_profile
from training.registry import CHALLENGER, evaluation_set, load_registered_model
from training.report import write_evaluation_report
from training.tracking import LoggedRun, log_training_run
from training.validation import validate_training_set

__all__ = ["TrainingOutcome", "evaluate_registered", "train_and_register"]


@dataclass(frozen=True)
class TrainingOutcome:
    """What one training job produced."""

    run: LoggedRun
    evaluation: Evaluation
    report_html: Path
    report_json: Path
    dataset_path: Path
    dataset_hash: str


def _write_report(
    evaluation: Evaluation,
    booster: lgb.Booster,
    encoding: FeatureEncoding,
    ts: TrainingSet,
    folder: Path,
    title: str,
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
    )


def train_and_register(settings: Settings, config: TrainingConfig, progress: Progress) -> TrainingOutcome:
    """Train on the feature service's point-in-time data and register a ``challenger``.

    Raises:
        DataValidationError: the training set failed a check (report under data/reports/).
        DataNotFoundError, FeatureRepoError, InvalidDateRangeError: inputs missing or wrong.
    """
    layout = settings.layout
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
        report_dir = layout.reports_dir / f"{config.model_name}-{ts.content_hash[:16]}"
        report_json, report_html = _write_report(
            evaluation,
            model.booster,
            model.encoding,
            ts,
            report_dir,
            f"{config.model_name} on {ts.feature_service}: evaluation",
        )
        train = ts.split("train")
        profile = build_reference_profile(
            train,
            ts.features,
            ts.categorical,
            predict(model.booster, model.encoding, train),
            feature_entities(store, ts.feature_service),
        )
    with progress.step("log the run to MLflow and register the model"):
        run = log_training_run(settings, config, ts, model, evaluation, profile, report.to_json(), report_dir)
        client = configure_mlflow(settings)
        client.set_registered_model_alias(config.model_name, CHALLENGER, str(run.version))
    return TrainingOutcome(run, evaluation, report_html, report_json, ts.path, ts.content_hash)


def evaluate_registered(
    settings: Settings, config: TrainingConfig, ref: str | int, progress: Progress
) -> tuple[Evaluation, Path]:
    """Re-run the evaluation suite for a registered version on its own holdout; returns the HTML path."""
    client = configure_mlflow(settings)
    model = load_registered_model(client, config.model_name, ref)
    ts = evaluation_set(client, model)
    with progress.step(f"evaluate {config.model_name} v{model.version}"):
        evaluation = evaluate_model(model.booster, model.encoding, ts, config.review_cost, model.threshold)
        _, html_path = _write_report(
            evaluation,
            model.booster,
            model.encoding,
            ts,
            settings.layout.reports_dir / f"{config.model_name}-v{model.version}",
            f"{config.model_name} v{model.version}: evaluation",
        )
    return evaluation, html_path
