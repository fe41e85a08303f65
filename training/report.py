"""The evaluation report: JSON for machines, one self-contained HTML page for people."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve, roc_curve  # noqa: E402

from skewless.atomic import write_text_atomic  # noqa: E402
from training.evaluation import Evaluation  # noqa: E402

__all__ = ["write_evaluation_report"]


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _curves(labels: np.ndarray, scores: np.ndarray, oracle: np.ndarray) -> str:
    figure, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for name, values, style in (("model", scores, "-"), ("oracle", oracle, "--")):
        fpr, tpr, _ = roc_curve(labels, values)
        roc_ax.plot(fpr, tpr, style, label=name)
        precision, recall, _ = precision_recall_curve(labels, values)
        pr_ax.plot(recall, precision, style, label=name)
    roc_ax.plot([0, 1], [0, 1], ":", color="grey")
    roc_ax.set(title="ROC", xlabel="false positive rate", ylabel="true positive rate")
    pr_ax.set(title="Precision-recall", xlabel="recall", ylabel="precision")
    roc_ax.legend()
    pr_ax.legend()
    return _png(figure)


def _reliability(evaluation: Evaluation) -> str:
    figure, ax = plt.subplots(figsize=(5, 4))
    predicted = [b["predicted"] for b in evaluation.calibration]
    observed = [b["observed"] for b in evaluation.calibration]
    # Equal-count bins crowd near zero for a 1.5% base rate, so both axes are logarithmic.
    floor = 1e-5
    low, top = floor, max(max(predicted), max(observed)) * 1.5
    ax.plot([low, top], [low, top], ":", color="grey", label="perfect")
    ax.plot(np.maximum(predicted, floor), np.maximum(observed, floor), "o-", label="model")
    ax.set(
        title=f"Reliability (ECE {evaluation.calibration_error:.4f})",
        xlabel="mean predicted",
        ylabel="observed fraud rate",
        xscale="log",
        yscale="log",
    )
    ax.legend()
    return _png(figure)


def _cost(evaluation: Evaluation) -> str:
    figure, ax = plt.subplots(figsize=(5, 4))
    if evaluation.cost_curve:
        ax.plot([p["threshold"] for p in evaluation.cost_curve], [p["cost"] for p in evaluation.cost_curve])
    ax.axvline(evaluation.threshold, color="red", linestyle="--", label=f"chosen {evaluation.threshold:.4f}")
    ax.set(title="Business cost on validation", xlabel="threshold", ylabel="cost", xscale="log")
    ax.legend()
    return _png(figure)


def _slices(evaluation: Evaluation) -> str:
    names, values = [], []
    for slice_name, per_value in evaluation.slices.items():
        for value, stats in per_value.items():
            if stats["roc_auc"] is not None:
                names.append(f"{slice_name}={value}")
                values.append(float(stats["roc_auc"]))
    figure, ax = plt.subplots(figsize=(6, max(3, 0.25 * len(names))))
    ax.barh(names, values)
    ax.axvline(evaluation.roc_auc, color="red", linestyle="--", label=f"overall {evaluation.roc_auc:.3f}")
    ax.set(title="ROC-AUC by slice", xlim=(min(values + [evaluation.roc_auc]) - 0.05, 1.0))
    ax.legend()
    return _png(figure)


def write_evaluation_report(
    evaluation: Evaluation,
    labels: np.ndarray,
    scores: np.ndarray,
    oracle: np.ndarray,
    folder: Path,
    title: str,
) -> tuple[Path, Path]:
    """Write ``evaluation.json`` and ``evaluation.html`` (plots embedded) into ``folder``."""
    json_path, html_path = folder / "evaluation.json", folder / "evaluation.html"
    write_text_atomic(json.dumps(evaluation.to_dict(), indent=2, default=float), json_path)
    gap = evaluation.largest_slice_gap
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:.4f}</td></tr>" for k, v in evaluation.metrics().items()
    )
    worst = (
        f"Largest slice gap: <b>{html.escape(str(gap['slice']))}</b>, worst value "
        f"<b>{html.escape(str(gap['worst']))}</b> at AUC {gap.get('worst_auc', float('nan')):.3f} "
        f"({gap['gap']:.3f} below the best value)."
        if gap["slice"]
        else "No slice large enough to compare."
    )
    images = [
        _curves(labels, scores, oracle),
        _reliability(evaluation),
        _cost(evaluation),
        _slices(evaluation),
    ]
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px}}
table{{border-collapse:collapse}}td{{border:1px solid #ddd;padding:.25rem .6rem}}
.summary{{font-size:1.15rem;background:#f4f6fa;padding:1rem;border-radius:6px}}img{{max-width:100%}}</style></head>
<body><h1>{html.escape(title)}</h1>
<p class="summary">Holdout ROC-AUC <b>{evaluation.roc_auc:.4f}</b> against the oracle's
<b>{evaluation.oracle_roc_auc:.4f}</b> (best achievable), on {evaluation.rows:,} transactions with
{evaluation.positives:,} frauds. Decision threshold {evaluation.threshold:.4f} minimises business cost:
{evaluation.business_cost:,.0f} on the holdout ({evaluation.cost_per_1k:,.1f} per 1,000 transactions).
Single-row latency p99 {evaluation.latency_ms["single_p99_ms"]:.2f} ms. {worst}</p>
{"".join(f'<p><img alt="plot" src="data:image/png;base64,{image}"></p>' for image in images)}
<h2>All metrics</h2><table>{rows}</table></body></html>
"""
    write_text_atomic(page, html_path)
    return json_path, html_path
