"""The retraining policy: what to do about a report, decided from its evidence.

- performance dropped past the rule → ``retrain`` (on the latest window, gated,
  then shadow as challenger);
- drift (or skew) seen but performance holds or is not yet known → ``review``:
  alert and record, do not retrain;
- the champion's data is older than the schedule allows → ``retrain_scheduled``;
- otherwise ``none``.

Deciding is pure; acting (training, the gate, the deployment tag) lives in
``lifecycle.retraining`` so that monitoring never imports training. Every decision is
appended to ``data/monitoring/decisions.jsonl`` with its evidence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from monitoring.config import PolicyRules
from monitoring.drift import WindowDrift
from monitoring.performance import WindowPerformance
from monitoring.reference import ModelReference
from monitoring.report import MonitoringReport
from skewless.atomic import append_line

__all__ = ["Action", "Decision", "decide", "evidence_windows", "record_decision"]

Action = Literal["none", "review", "retrain", "retrain_scheduled"]


@dataclass(frozen=True)
class Decision:
    """One policy decision, the evidence it rests on, and what came of it."""

    action: Action
    reasons: list[str]
    evidence: dict[str, Any]
    decided_at: str
    model_name: str
    model_version: int
    outcome: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _age_days(reference: ModelReference, as_of: datetime) -> float:
    return (as_of - reference.cutoff).total_seconds() / 86_400


def evidence_windows(report: MonitoringReport) -> tuple[WindowDrift, WindowPerformance]:
    """The drift and the performance the policy acts on.

    Without sub-windows both are the whole range. With them (``--every``), drift is
    the newest sub-window that could be judged, and performance the newest one whose
    labels allow a judgement: labels arrive late (frauds within days, legitimate
    transactions after 30), so when the whole range is not yet judged on
    performance, an older week often already is.
    """
    judged_drift = [w for w in report.windows if w.verdict != "insufficient"]
    drift = judged_drift[-1] if len(report.windows) > 1 and judged_drift else report.drift
    performance = report.performance
    if performance.status == "insufficient":
        judged = [w for w in report.performance_windows if w.status != "insufficient"]
        performance = judged[-1] if judged else performance
    return drift, performance


def decide(
    report: MonitoringReport, reference: ModelReference, rules: PolicyRules, as_of: datetime
) -> Decision:
    """What the policy does about ``report`` (nothing is changed here)."""
    drift, performance = evidence_windows(report)
    age = _age_days(reference, as_of)
    evidence = {
        "report_window": [report.start, report.end],
        "drift_window": [drift.start, drift.end],
        "performance_window": [performance.start, performance.end],
        "drift_verdict": drift.verdict,
        "drifted": {f.name: f.status for f in drift.features if f.flagged},
        "performance_status": performance.status,
        "auc": performance.auc,
        "auc_standard_error": performance.auc_standard_error,
        "reference_auc": performance.reference_auc,
        "label_coverage": performance.coverage,
        "labelled_frauds": performance.positives,
        "skew": report.skew.status if report.skew else None,
        "model_data_age_days": age,
    }
    reasons: list[str] = []
    action: Action = "none"
    if performance.status == "drop":
        action = "retrain"
        reasons += performance.reasons
    elif age > rules.max_model_age_days:
        action = "retrain_scheduled"
        reasons.append(
            f"the champion's data is {age:.0f} days old, past the {rules.max_model_age_days}-day schedule"
        )
    if action == "none" and (drift.verdict == "drift" or (report.skew and report.skew.status == "skew")):
        action = "review"
        if drift.verdict == "drift":
            reasons.append(
                f"drift in {', '.join(drift.drifted)} while performance is {performance.status}: "
                "alert and review, do not retrain on drift alone"
            )
        if report.skew and report.skew.status == "skew":
            reasons.append(
                f"training-serving skew in {', '.join(report.skew.skewed)}: fix the pipeline, not the model"
            )
    if action == "none":
        reasons.append(f"no drift ({drift.verdict}), performance {performance.status}")
    return Decision(
        action=action,
        reasons=reasons,
        evidence=evidence,
        decided_at=as_of.isoformat(),
        model_name=report.model_name,
        model_version=report.model_version,
    )


def record_decision(decision: Decision, path: Path) -> None:
    """Append ``decision`` as one JSON line."""
    append_line(path, json.dumps(decision.to_dict(), default=str, sort_keys=True))
