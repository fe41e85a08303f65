"""The evaluation report: JSON for machines, one self-contained HTML page for people."""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import lightgbm as lgb  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import (  # noqa: E402
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from skewless.atomic import write_text_atomic  # noqa: E402
from training.evaluation import Evaluation  # noqa: E402

__all__ = ["Comparison", "write_evaluation_report"]


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


@dataclass(frozen=True)
class Comparison:
    """Another model's scores on the same holdout rows (the champion), for the report's curves."""

    name: str
    scores: np.ndarray  # on the holdout rows
    cost_curve: list[dict[str, float]]  # on the validation rows, as this model's own curve


def _curves(labels: np.ndarray, scores: np.ndarray, oracle: np.ndarray, champion: Comparison | None) -> str:
    figure, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4))
    lines = [("this model", scores, "-"), ("oracle", oracle, "--")]
    if champion is not None:
        lines.insert(1, (champion.name, champion.scores, "-."))
    for name, values, style in lines:
        fpr, tpr, _ = roc_curve(labels, values)
        roc_ax.plot(fpr, tpr, style, label=f"{name} (AUC {roc_auc_score(labels, values):.3f})")
        precision, recall, _ = precision_recall_curve(labels, values)
        pr_ax.plot(
            recall, precision, style, label=f"{name} (AP {average_precision_score(labels, values):.3f})"
        )
    roc_ax.plot([0, 1], [0, 1], ":", color="grey")
    roc_ax.set(title="ROC, same holdout rows", xlabel="false positive rate", ylabel="true positive rate")
    pr_ax.set(title="Precision-recall, same holdout rows", xlabel="recall", ylabel="precision")
    roc_ax.legend(loc="lower right")
    pr_ax.legend(loc="upper right")
    return _png(figure)


def _reliability(evaluation: Evaluation) -> str:
    figure, ax = plt.subplots(figsize=(5, 4))
    # Equal-count bins crowd near zero for a 1.5% base rate, so both axes are logarithmic; a bin
    # with no fraud has no place on a log axis and is counted in the title, never drawn at a floor.
    shown = [b for b in evaluation.calibration if b["observed"] > 0 and b["predicted"] > 0]
    empty = len(evaluation.calibration) - len(shown)
    if shown:
        predicted = [b["predicted"] for b in shown]
        observed = [b["observed"] for b in shown]
        low = min(min(predicted), min(observed)) / 1.5
        top = max(max(predicted), max(observed)) * 1.5
        ax.plot([low, top], [low, top], ":", color="grey", label="perfect")
        ax.plot(predicted, observed, "o-", label="model")
        ax.set(xscale="log", yscale="log")
        ax.legend()
    note = f"; {empty} bin(s) without fraud not drawn" if empty else ""
    ax.set(
        title=f"Reliability (ECE {evaluation.calibration_error:.4f}{note})",
        xlabel="mean predicted",
        ylabel="observed fraud rate",
    )
    return _png(figure)


def _cost(evaluation: Evaluation, champion: Comparison | None) -> str:
    figure, ax = plt.subplots(figsize=(5, 4))
    if evaluation.cost_curve:
        ax.plot(
            [p["threshold"] for p in evaluation.cost_curve],
            [p["cost"] for p in evaluation.cost_curve],
            label="this model",
        )
    if champion is not None and champion.cost_curve:
        ax.plot([p["threshold"] for p in champion.cost_curve], [p["cost"] for p in champion.cost_curve], "-.",
                label=champion.name)  # fmt: skip
    ax.axvline(evaluation.threshold, color="red", linestyle="--", label=f"chosen {evaluation.threshold:.4f}")
    ax.set(title="Business cost on validation", xlabel="threshold", ylabel="cost", xscale="log")
    ax.legend()
    return _png(figure)


def _importance(booster: lgb.Booster, top: int = 20) -> str:
    """Total gain per feature (LightGBM's own), the largest first."""
    gains = booster.feature_importance(importance_type="gain")
    names = booster.feature_name()
    order = np.argsort(gains)[::-1][:top][::-1]
    figure, ax = plt.subplots(figsize=(6, max(3, 0.3 * len(order))))
    ax.barh([names[i] for i in order], [gains[i] / max(gains.sum(), 1e-12) for i in order])
    ax.set(title=f"Feature importance (share of total gain, top {len(order)})", xlabel="share of gain")
    return _png(figure)


def _confusion(labels: np.ndarray, scores: np.ndarray, threshold: float) -> str:
    """The confusion matrix at the decision threshold, as a table."""
    alert = scores >= threshold
    fraud = labels.astype(bool)
    cells = {
        "tp": int((alert & fraud).sum()),
        "fp": int((alert & ~fraud).sum()),
        "fn": int((~alert & fraud).sum()),
        "tn": int((~alert & ~fraud).sum()),
    }
    precision = cells["tp"] / max(cells["tp"] + cells["fp"], 1)
    recall = cells["tp"] / max(cells["tp"] + cells["fn"], 1)
    return (
        f"<h2>Confusion matrix at the threshold {threshold:.4f}</h2>"
        "<table><tr><th></th><th>review (alert)</th><th>approve</th></tr>"
        f"<tr><th>fraud</th><td>{cells['tp']:,} caught</td><td>{cells['fn']:,} missed</td></tr>"
        f"<tr><th>legitimate</th><td>{cells['fp']:,} false alerts</td><td>{cells['tn']:,} approved</td></tr>"
        f"</table><p>Precision of the alerts {precision:.1%}, recall of the frauds {recall:.1%}.</p>"
    )


def _slices(evaluation: Evaluation) -> str:
    names, values, judged = [], [], []
    for slice_name, per_value in evaluation.slices.items():
        for value, stats in per_value.items():
            rows, positives = int(stats["rows"] or 0), int(stats["positives"] or 0)
            names.append(f"{slice_name}={value} (n={rows:,}, {positives} frauds)")
            values.append(float(stats["roc_auc"]) if stats["roc_auc"] is not None else 0.0)
            judged.append(stats["roc_auc"] is not None)
    figure, ax = plt.subplots(figsize=(7, max(3, 0.3 * len(names))))
    ax.barh(names, values, color=["#4c72b0" if j else "#cccccc" for j in judged])
    for i, ok in enumerate(judged):
        if not ok:
            ax.text(0.01, i, "too few frauds to judge", va="center", fontsize=9, color="#555")
    ax.axvline(evaluation.roc_auc, color="red", linestyle="--", label=f"overall {evaluation.roc_auc:.3f}")
    ax.set(title="ROC-AUC by slice (axis from 0)", xlim=(0.0, 1.0))
    ax.legend(loc="lower right")
    return _png(figure)


def write_evaluation_report(
    evaluation: Evaluation,
    labels: np.ndarray,
    scores: np.ndarray,
    oracle: np.ndarray,
    folder: Path,
    title: str,
    booster: lgb.Booster | None = None,
    champion: Comparison | None = None,
) -> tuple[Path, Path]:
    """Write ``evaluation.json`` and ``evaluation.html`` (plots embedded) into ``folder``.

    With ``champion`` (its scores on the same rows), the curves compare both models; with
    ``booster``, the page shows its feature importance.
    """
    json_path, html_path = folder / "evaluation.json", folder / "evaluation.html"
    write_text_atomic(json.dumps(evaluation.to_dict(), indent=2, default=float), json_path)
    gap = evaluation.largest_slice_gap
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in evaluation.metrics().items()
    )
    worst = (
        f"Largest slice gap: <b>{html.escape(str(gap['slice']))}</b>, worst value "
        f"<b>{html.escape(str(gap['worst']))}</b> at AUC {gap.get('worst_auc', float('nan')):.3f} "
        f"({gap['gap']:.3f} below the best value of the same slice)."
        if gap["slice"]
        else "No slice has two values with enough frauds to compare their AUC (grey bars below)."
    )
    versus = ""
    if champion is not None:
        theirs = roc_auc_score(labels, champion.scores)
        versus = (
            f" On the same rows, {html.escape(champion.name)} has ROC-AUC <b>{theirs:.4f}</b> "
            f"({evaluation.roc_auc - theirs:+.4f} for this model)."
        )
    images = [
        _curves(labels, scores, oracle, champion),
        _cost(evaluation, champion),
        _reliability(evaluation),
        _slices(evaluation),
    ]
    if booster is not None:
        images.append(_importance(booster))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;font-size:15px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:.25rem .6rem;text-align:left}}
.summary{{font-size:1.15rem;background:#f4f6fa;padding:1rem;border-radius:6px}}img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p class="summary">Holdout ROC-AUC <b>{evaluation.roc_auc:.4f}</b> against the oracle's
<b>{evaluation.oracle_roc_auc:.4f}</b> (best achievable), on {evaluation.rows:,} transactions with
{evaluation.positives:,} frauds.{versus} Decision threshold {evaluation.threshold:.4f} minimises business
cost: {evaluation.business_cost:,.0f} on the holdout ({evaluation.cost_per_1k:,.1f} per 1,000 transactions).
Single-row latency p99 {evaluation.latency_ms["single_p99_ms"]:.2f} ms. {worst}</p>
{_confusion(labels, scores, evaluation.threshold)}
{"".join(f'<p><img alt="plot" src="data:image/png;base64,{image}"></p>' for image in images)}
<h2>All metrics</h2><table>{rows}</table></body></html>
"""
    write_text_atomic(page, html_path)
    return json_path, html_path
