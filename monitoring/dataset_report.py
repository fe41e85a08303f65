"""The report of a two-dataset comparison: ``report.json`` for pipelines, ``report.html`` for people.

Same page parts as the monitoring report (``monitoring.page``): the verdict and the
flagged columns first, prediction drift in the headline when a prediction column was
given, a table of every column's figures (flagged first), each column's name, status
and plots, and the rules as a table. Self-contained: no script, no external asset.
"""

from __future__ import annotations

import html
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from monitoring.datasets import DatasetDrift
from monitoring.page import (
    PAGE_STYLE,
    badge,
    feature_sections,
    feature_table,
    flagged_first,
    rules_table,
    write_report_files,
)

__all__ = ["render_dataset_html", "write_dataset_report"]


def _headline(result: DatasetDrift) -> str:
    drift = result.drift
    if drift.verdict == "drift":
        text = f"Drift: {len(drift.drifted)} of {len(drift.features)} columns flagged"
    elif drift.verdict == "insufficient":
        text = f"Too few current rows to judge ({drift.rows:,}, need {result.rules.min_rows:,})"
    else:
        text = f"No drift: all {len(drift.features)} columns within the rules"
    if drift.score is not None:
        text += f"; prediction drift ({result.prediction}): {drift.score.status}"
    return text


def render_dataset_html(result: DatasetDrift) -> str:
    """The comparison as one HTML page."""
    drift = result.drift
    title = f"Drift: {Path(result.current).name} against {Path(result.reference).name}"
    flagged = "".join(
        f'<li><a href="#feature-{html.escape(f.name)}"><b>{html.escape(f.name)}</b></a> {badge(f.status)} '
        f"{html.escape('; '.join(f.reasons))}</li>"
        for f in flagged_first(drift.features)
        if f.flagged
    )
    skipped = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape(why)}</li>" for name, why in result.skipped.items()
    )
    features = [*drift.features, *([drift.score] if drift.score else [])]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{PAGE_STYLE}</style></head>
<body><h1>{html.escape(title)}</h1>
<div class="summary"><h2>{badge(drift.verdict)} {html.escape(_headline(result))}</h2>
<p>Reference <code>{html.escape(result.reference)}</code>: {result.reference_rows:,} rows.
Current <code>{html.escape(result.current)}</code>: {result.current_rows:,} rows.
{drift.tests} tests at α = {drift.alpha_per_test:.2g} each (family-wise {result.rules.alpha:.0%}).
Computed in {result.seconds:.1f} s.</p>
{f"<ul>{flagged}</ul>" if flagged else ""}
{f"<p>Not compared:</p><ul>{skipped}</ul>" if skipped else ""}</div>
<h2>Every column against the reference (flagged first)</h2>
{feature_table(features, "reference")}
<h2>Distributions</h2>{feature_sections(features, ("reference", "current"))}
<h2>Rules</h2>{rules_table(asdict(result.rules))}
<p>Generated {datetime.now(UTC).isoformat(timespec="seconds")}.</p>
</body></html>
"""


def write_dataset_report(result: DatasetDrift, folder: Path) -> tuple[Path, Path]:
    """Write ``report.json`` and ``report.html`` into ``folder`` (atomically); returns both paths."""
    return write_report_files(folder, result.to_dict(), render_dataset_html(result))
