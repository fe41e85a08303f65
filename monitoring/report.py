"""The monitoring report: one JSON document for machines, one self-contained HTML page for people.

The page opens with the summary (verdict, drifted features, prediction drift,
performance trend, skew), then a table of every feature's figures, flagged first,
then each feature's name, status and plots of the training distribution against
what was served (``monitoring.page``), and the rules as a table.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitoring.drift import WindowDrift
from monitoring.label_signals import LabelSignals, Signal
from monitoring.page import (
    PAGE_STYLE,
    badge,
    feature_sections,
    feature_table,
    flagged_first,
    rules_table,
    write_report_files,
)
from monitoring.page import number as _number
from monitoring.page import percent as _percent
from monitoring.performance import WindowPerformance
from monitoring.plots import trend_plot
from monitoring.skew import SkewReport

__all__ = ["MonitoringReport", "write_report"]


@dataclass(frozen=True)
class MonitoringReport:
    """Everything one `skewless monitor report` found."""

    model_name: str
    model_version: int
    generated_at: str
    start: str
    end: str
    as_of: str
    drift: WindowDrift
    windows: list[WindowDrift]
    performance: WindowPerformance
    performance_windows: list[WindowPerformance]
    skew: SkewReport | None
    config: dict[str, Any]
    alerts: list[dict[str, Any]] = field(default_factory=list)
    signals: LabelSignals | None = None  # early signals of the whole range (label_signals)
    signal_windows: list[LabelSignals] = field(default_factory=list)
    decision: dict[str, Any] | None = None  # the policy's decision on this report, once made

    @property
    def verdict(self) -> str:
        return self.drift.verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "model_name": self.model_name,
            "model_version": self.model_version,
            "generated_at": self.generated_at,
            "start": self.start,
            "end": self.end,
            "as_of": self.as_of,
            "verdict": self.verdict,
            "drifted": self.drift.drifted,
            "drift": self.drift.to_dict(),
            "windows": [_window_summary(w) for w in self.windows],
            "performance": self.performance.to_dict(),
            "performance_windows": [p.to_dict() for p in self.performance_windows],
            "skew": self.skew.to_dict() if self.skew else None,
            "signals": self.signals.to_dict() if self.signals else None,
            "signal_windows": [w.to_dict() for w in self.signal_windows],
            "decision": self.decision,
            "alerts": self.alerts,
            "config": self.config,
        }


def _window_summary(window: WindowDrift) -> dict[str, Any]:
    return {
        "start": window.start,
        "end": window.end,
        "rows": window.rows,
        "verdict": window.verdict,
        "drifted": window.drifted,
        "share_drifted": window.share_drifted,
    }


def _outcome_text(outcome: dict[str, Any]) -> str:
    """What carrying a decision out did, in a sentence."""
    if outcome.get("candidate_version") is None:
        return str(outcome.get("why") or outcome.get("error") or json.dumps(outcome, default=str))
    candidate, champion = outcome.get("candidate") or {}, outcome.get("champion") or {}
    figures = f"AUC {candidate.get('roc_auc', float('nan')):.3f}"
    if "roc_auc" in champion:
        figures += f" against the champion's {champion['roc_auc']:.3f} on the same rows"
    verdict = (
        "passed" if outcome.get("gate_passed") else "refused: " + "; ".join(outcome.get("gate_reasons", []))
    )
    trained = (
        f"v{outcome['candidate_version']} trained on {outcome.get('train_days')} days to "
        f"{str(outcome.get('cutoff', ''))[:10]} ({outcome.get('labels', 'matured')} labels)"
    )
    deployment = f"; deployment: {outcome['deployment']}" if outcome.get("deployment") else ""
    return f"{trained}: {figures}; gate {verdict}{deployment}"


def _signal_cell(signal: Signal) -> str:
    if signal.value is None:
        return f"<td>- <small>({signal.count} {html.escape(signal.basis)})</small></td>"
    interval = (
        f"{signal.low:.3f}-{signal.high:.3f}" if signal.low is not None and signal.high is not None else ""
    )
    reference = "" if signal.reference is None else f" · holdout {signal.reference:.3f}"
    return (
        f"<td>{badge(signal.status)} {signal.value:.3f} <small>(95% {interval}; {signal.count} "
        f"{html.escape(signal.basis)}{reference})</small></td>"
    )


def _signals_table(report: MonitoringReport) -> str:
    """The early signals per window: what the labels known at ``as_of`` say."""
    if not report.signal_windows:
        return ""
    rows = "".join(
        f"<tr><td>{html.escape(w.start[:10])} – {html.escape(w.end[:10])}</td><td>{w.answers:,}</td>"
        + "".join(_signal_cell(s) for s in w.all)
        + "</tr>"
        for w in report.signal_windows
    )
    return (
        "<h3>Early signals (labels known at the report's as-of)</h3><table><tr><th>window</th><th>answers</th>"
        "<th>alert precision</th><th>recall on known frauds</th><th>AUC at matched label age</th></tr>"
        f"{rows}</table>"
    )


def _summary(report: MonitoringReport) -> str:
    drift, performance = report.drift, report.performance
    if drift.verdict == "drift":
        headline = f"Dataset drift: {len(drift.drifted)} of {len(drift.features)} features flagged"
    elif drift.verdict == "insufficient":
        headline = (
            f"Too few served rows to judge ({drift.rows:,}, need {report.config['drift']['min_rows']:,})"
        )
    else:
        headline = f"No drift: all {len(drift.features)} features within the rules"
    flagged = "".join(
        f"<li><b>{html.escape(f.name)}</b> {badge(f.status)} {html.escape('; '.join(f.reasons))}</li>"
        for f in flagged_first(drift.features)
        if f.flagged
    )
    score = drift.score
    score_line = (
        f"Score distribution: {badge(score.status)} KS {_number(score.ks_distance)}, PSI {_number(score.psi)}."
        if score
        else ""
    )
    judged = [p for p in report.performance_windows if p.auc is not None]
    trend = (
        ", ".join(f"{p.start[:10]} {p.auc:.3f}" for p in judged[-8:])
        or "no window with both classes labelled yet"
    )
    skew = report.skew
    skew_line = (
        "Skew check: not run."
        if skew is None
        else f"Training-serving skew check on {skew.sampled} served requests: {badge(skew.status)} "
        + (
            f"mismatches in {', '.join(skew.skewed)}"
            if skew.skewed
            else "every feature matched offline retrieval"
        )
    )
    if score is not None:
        headline += f"; prediction (score) drift: {score.status}"
    decided = ""
    if report.decision:
        reasons = "".join(f"<li>{html.escape(str(r))}</li>" for r in report.decision.get("reasons", []))
        outcome = report.decision.get("outcome") or {}
        done = f"<p>What came of it: {html.escape(_outcome_text(outcome))}</p>" if outcome else ""
        decided = (
            f'<div class="decision"><h2>Decision: {html.escape(str(report.decision["action"]))}</h2>'
            f"<ul>{reasons}</ul>{done}</div>"
        )
    return f"""{decided}<div class="summary">
<h2>{badge(drift.verdict)} {html.escape(headline)}</h2>
<p>{report.model_name} v{report.model_version} · served rows {drift.rows:,} from {report.start} to {report.end}
· {drift.tests} tests at α = {drift.alpha_per_test:.2g} each (family-wise 5%). {score_line}</p>
{f"<ul>{flagged}</ul>" if flagged else ""}
<p>Performance (labels known at {report.as_of}): {badge(performance.status)} AUC {_number(performance.auc)}
(training holdout {_number(performance.reference_auc)}), precision at the threshold {_percent(performance.precision)},
recall {_percent(performance.recall)}, cost per 1,000 labelled {_number(performance.cost_per_1k, 1)},
label coverage {_percent(performance.coverage)} ({performance.labelled:,} of {performance.predictions:,}).
{html.escape(" ".join(performance.reasons))}</p>
<p>AUC trend by window: {html.escape(trend)}.</p>
{_signals_table(report)}
<p>{skew_line}</p></div>"""


def render_html(report: MonitoringReport) -> str:
    """The report as one HTML page with its plots embedded."""
    title = f"Monitoring: {report.model_name} v{report.model_version}, {report.start} to {report.end}"
    trend = trend_plot(report.windows, report.performance_windows)
    features = [*report.drift.features, *([report.drift.score] if report.drift.score else [])]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{PAGE_STYLE}</style></head>
<body><h1>{html.escape(title)}</h1>
{_summary(report)}
{f'<div class="trend">{trend}</div>' if trend else ""}
<h2>Every feature against training (flagged first)</h2>
{feature_table(features)}
<h2>Distributions</h2>{feature_sections(features)}
<h2>Rules</h2>{rules_table(report.config["drift"])}
<p>Generated {report.generated_at}.</p>
</body></html>
"""


def write_report(report: MonitoringReport, folder: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``folder`` (atomically); returns both paths."""
    return write_report_files(folder, report.to_dict(), render_html(report))
