"""The retraining policy: what to do about a report, decided from its evidence.

- performance dropped → ``retrain`` (on the newest data with the labels known now,
  gated, then shadow as challenger). A drop is an early signal's significant fall
  (alert precision, recall on known frauds or the matched-age AUC, each on the newest
  window it can be judged on: ``monitoring.label_signals``) or the matured-label AUC's;
- drift (or skew) seen but performance holds or is not yet known → ``review``:
  alert and record, do not retrain;
- the champion's data is older than the schedule allows → ``retrain_scheduled``,
  except while drift is open for review: the schedule waits, since retraining on
  drifted data nobody has looked at would hide the question;
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
from monitoring.label_signals import Signal
from monitoring.performance import WindowPerformance
from monitoring.reference import ModelReference
from monitoring.report import MonitoringReport
from skewless.atomic import append_line

__all__ = ["Action", "Decision", "decide", "evidence_windows", "newest_signals", "record_decision"]

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


def _signal_evidence(signal: Signal) -> dict[str, Any]:
    keys = ("value", "low", "high", "count", "reference", "status")
    return {key: getattr(signal, key) for key in keys}


def newest_signals(report: MonitoringReport) -> list[Signal]:
    """Each early signal on the newest window it could be judged on (labels arrive late)."""
    newest: list[Signal] = []
    for name in ("precision", "recall", "auc_at_age"):
        judged = [
            getattr(w, name) for w in report.signal_windows if getattr(w, name).status != "insufficient"
        ]
        if judged:
            newest.append(judged[-1])
    return newest


def decide(
    report: MonitoringReport, reference: ModelReference, rules: PolicyRules, as_of: datetime
) -> Decision:
    """What the policy does about ``report`` (nothing is changed here)."""
    drift, performance = evidence_windows(report)
    signals = newest_signals(report)
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
        "signals": {s.name: _signal_evidence(s) for s in signals},
    }
    reasons: list[str] = []
    action: Action = "none"
    dropped = [s for s in signals if s.status == "drop"]
    schedule = rules.known_label_refresh_days if reference.labels == "known" else rules.max_model_age_days
    due = (
        f"the champion learned from labels known on {reference.cutoff:%Y-%m-%d}; {age:.0f} days of labels "
        f"have arrived since (refreshed every {schedule} days)"
        if reference.labels == "known"
        else f"the champion's data is {age:.0f} days old, past the {schedule}-day schedule"
    )
    if dropped or performance.status == "drop":
        action = "retrain"
        reasons += [s.reason for s in dropped] + (performance.reasons if performance.status == "drop" else [])
    elif age >= schedule and drift.verdict == "drift":
        reasons.append(f"{due}, but the scheduled retraining waits while drift is open for review")
    elif age >= schedule:
        action = "retrain_scheduled"
        reasons.append(due)
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
    if action == "none" and not reasons:
        judged = ", ".join(f"{s.name} {s.value:.3f}" for s in signals if s.value is not None)
        reasons.append(
            f"no drift ({drift.verdict}), performance {performance.status}"
            + (f"; early signals ok ({judged})" if judged else "")
        )
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
