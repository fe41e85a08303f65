"""The loop's figures from what the callers got, and the summary page that links every report.

Each answer the API gave is joined with its final label and the oracle's score (the
simulator's true fraud probability), then pooled per week and per model before and
after the scenario's change, with the AUC's 95% interval (Hanley-McNeil).
"""

from __future__ import annotations

import json
import os
import urllib.parse
from datetime import UTC, date, timedelta
from pathlib import Path
from typing import Any, cast

import pandas as pd

from lifecycle.loop.chart import story_chart
from monitoring.performance import auc_with_error
from skewless.atomic import write_text_atomic
from skewless.labels import label_status_sql
from skewless.layout import DataLayout
from skewless.served_log import ServedColumn, log_glob

__all__ = ["format_auc", "period_rows", "served_with_labels", "week_rows", "write_summary"]


def _auc_cell(labels: Any, scores: Any) -> dict[str, float | None]:
    """AUC and the half-width of its 95% interval (Hanley-McNeil), None without both classes."""
    measured = auc_with_error(labels, scores)
    if measured is None:
        return {"auc": None, "ci": None}
    return {"auc": round(measured[0], 3), "ci": round(1.96 * measured[1], 3)}


def served_with_labels(layout: DataLayout) -> pd.DataFrame:
    """Every answer a caller got, with its final label and the oracle's score."""
    import duckdb

    c = ServedColumn
    sql = (
        f"SELECT s.{c.TRANSACTION_TIME}, s.{c.MODEL_VERSION}, s.{c.SCORE}, s.{c.DECISION}, l.is_fraud, "
        f"t.oracle_score, r.verdict AS reviewed_fraud "
        f"FROM read_parquet('{log_glob(layout.served_log_dir)}', hive_partitioning = true) s "
        f"JOIN read_parquet('{layout.labels}') l ON s.{c.TRANSACTION_ID} = CAST(l.transaction_id AS VARCHAR) "
        f"JOIN read_parquet('{layout.transactions}') t ON l.transaction_id = t.transaction_id "
        f"LEFT JOIN ({label_status_sql(layout.label_files)}) r ON l.transaction_id = r.transaction_id "
        f"WHERE s.{c.SERVED}"
    )
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'UTC'")
        served: pd.DataFrame = connection.execute(sql).df()
    return served


def _scored(part: pd.DataFrame) -> dict[str, Any]:
    labels = part["is_fraud"].to_numpy()
    model, oracle = (
        _auc_cell(labels, part["score"].to_numpy()),
        _auc_cell(labels, part["oracle_score"].to_numpy()),
    )
    reviewed = part["reviewed_fraud"].dropna() if "reviewed_fraud" in part.columns else pd.Series(dtype=float)
    return {
        "served": int(len(part)),
        "frauds": int(labels.sum()),
        "reviewed_alerts": int(len(reviewed)),
        "alert_precision": round(float(reviewed.mean()), 3) if len(reviewed) else None,
        "auc": model["auc"],
        "auc_ci": model["ci"],
        "oracle_auc": oracle["auc"],
        "oracle_auc_ci": oracle["ci"],
    }


def week_rows(
    served: pd.DataFrame, first: date, days: int, checks: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per replayed week: versions serving, AUC of the served scores and of the oracle, verdicts."""
    rows = []
    for week in range(0, days, 7):
        low, high = (
            pd.Timestamp(first + timedelta(days=week), tz=UTC),
            pd.Timestamp(first + timedelta(days=min(days, week + 7)), tz=UTC),
        )
        part = served[(served["transaction_time"] >= low) & (served["transaction_time"] < high)]
        check = next((c for c in checks if low.date() <= date.fromisoformat(c["day"]) < high.date()), None)
        rows.append(
            {"week": f"{low.date()} – {(high - pd.Timedelta(days=1)).date()}"}
            | _scored(part)
            | {
                "versions": sorted(int(v) for v in part["model_version"].unique()),
                "drift": check["drift_verdict"] if check else None,
                "score_drift": check.get("score_drift") if check else None,
                "skew": check["skew"] if check else None,
                "decision": check["decision"] if check else None,
                "report": check["report_html"] if check else None,
            }
        )
    return rows


def period_rows(served: pd.DataFrame, change: pd.Timestamp | None) -> list[dict[str, Any]]:
    """AUC per model version, before and after the scenario's change: weeks pooled, so the
    intervals are narrower than a week's."""
    phase = (
        pd.Series("no change", index=served.index)
        if change is None
        else (served["transaction_time"] >= change).map(
            {False: "before the change", True: "after the change"}
        )
    )
    rows = []
    for (version, when), part in served.groupby([served["model_version"].astype(int), phase], sort=False):
        rows.append(
            {
                "version": int(cast(int, version)),
                "phase": str(when),
                "from": str(part["transaction_time"].min().date()),
                "to": str(part["transaction_time"].max().date()),
            }
            | _scored(part)
        )
    return sorted(rows, key=lambda row: (row["from"], row["version"]))


def format_auc(auc: float | None, ci: float | None) -> str:
    """``0.824 ± 0.061``, or ``-`` when the week had no fraud (or nothing but fraud)."""
    return "-" if auc is None else f"{auc:.3f} ± {ci:.3f}"


_PAGE_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1150px;color:#222}
table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:4px 8px;
text-align:left;font-size:14px;vertical-align:top}th{background:#f3f3f3}.num{text-align:right}
code{background:#f6f6f6;padding:1px 4px}p.note{color:#555;font-size:14px;max-width:900px}"""


def write_summary(folder: Path, result: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``summary.json`` and ``summary.html`` (every report linked) into ``folder``."""
    import html

    json_path, html_path = folder / "summary.json", folder / "summary.html"
    write_text_atomic(json.dumps(result, indent=2, default=str), json_path)

    def cell(value: Any) -> str:
        return html.escape("" if value is None else str(value))

    def link(path: str | None, text: str) -> str:
        # Relative to the page: a copied or moved workspace keeps its links.
        if not path:
            return ""
        target = os.path.relpath(Path(path).resolve(), folder.resolve())
        return f'<a href="{html.escape(urllib.parse.quote(Path(target).as_posix()))}">{cell(text)}</a>'

    weeks = "".join(
        f"<tr><td>{cell(w['week'])}</td><td class=num>{w['served']}</td><td class=num>{w['frauds']}</td>"
        f"<td>{cell(', '.join(f'v{v}' for v in w['versions']))}</td>"
        f"<td class=num>{cell(format_auc(w['auc'], w['auc_ci']))}</td>"
        f"<td class=num>{cell(format_auc(w['oracle_auc'], w['oracle_auc_ci']))}</td>"
        f"<td class=num>{cell(w.get('alert_precision'))} <small>({w.get('reviewed_alerts', 0)})</small></td>"
        f"<td>{cell(w['drift'])}</td><td>{cell(w.get('score_drift'))}</td><td>{cell(w['skew'])}</td><td>{cell(w['decision'])}</td>"
        f"<td>{link(w['report'], 'monitoring report')}</td></tr>"
        for w in result["weeks"]
    )
    periods = "".join(
        f"<tr><td>v{p['version']}</td><td>{cell(p['phase'])}</td><td>{cell(p['from'])} – {cell(p['to'])}</td>"
        f"<td class=num>{p['served']}</td><td class=num>{p['frauds']}</td>"
        f"<td class=num>{cell(format_auc(p['auc'], p['auc_ci']))}</td>"
        f"<td class=num>{cell(format_auc(p['oracle_auc'], p['oracle_auc_ci']))}</td></tr>"
        for p in result["periods"]
    )
    events = "".join(
        f"<tr><td>{cell(e['day'])}</td><td>{cell(e['stage'])}</td><td>{cell(e['detail'])}</td>"
        f"<td>{link(e['page'], 'report')}</td></tr>"
        for e in result["events"]
    )
    start = result["start"]
    config = result["config"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Skewless · the whole loop</title>
<style>{_PAGE_STYLE}</style></head>
<body><h1>Skewless · the whole loop · scenario {cell(config["scenario"])}</h1>
<p>{start["transactions"]:,} simulated transactions; {config["replay_days"]} days replayed through the
API ({config["per_day"]} a day, from {cell(config["first_day"])}), the scenario's change from day
{config["drift_after_days"] + 1}. Champion at the end: <b>v{cell(result["champion_version"])}</b>.
Wall time {cell(result["seconds"])} s.</p>
<p>First champion: v{cell(start["version"])}, holdout ROC-AUC {cell(start["holdout_auc"])} against the
oracle's {cell(start["oracle_auc"])} · {link(start["evaluation_report"], "evaluation report")} ·
decisions: <code>{cell(result["decisions"])}</code> · runs and models:
<code>{cell(result["mlflow_ui"])}</code></p>
{story_chart(result)}
<h2>Weeks</h2>
<table><tr><th>week</th><th>served</th><th>frauds</th><th>versions</th><th>AUC (95% interval)</th>
<th>oracle AUC</th><th>alert precision (reviewed)</th><th>drift</th><th>score drift</th><th>skew</th>
<th>decision</th><th></th></tr>{weeks}</table>
<p class="note">AUC of the scores the callers got, against the labels known at the end, beside the
oracle (the simulator's true fraud probability) on the same transactions, and the share of the alerts
the analysts reviewed that were fraud (how many they reviewed in brackets). Drift, score drift, skew and
decision come from the check run at the end of the week, on the event clock.</p>
<h2>Each model, before and after the change</h2>
<table><tr><th>model</th><th>phase</th><th>days</th><th>answers</th><th>frauds</th>
<th>AUC (95% interval)</th><th>oracle AUC</th></tr>{periods}</table>
<h2>What happened</h2>
<table><tr><th>day</th><th>stage</th><th>detail</th><th></th></tr>{events}</table>
</body></html>"""
    write_text_atomic(page, html_path)
    return json_path, html_path
