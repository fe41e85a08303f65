"""``skewless drift REFERENCE CURRENT``: the monitoring checks on any two tables (no workspace needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lifecycle.cli.app import app
from lifecycle.cli.context import echo_json

__all__: list[str] = []

DRIFT_FOUND_EXIT = 1


@app.command("drift")
def drift_command(
    reference: Annotated[str, typer.Argument(help="Baseline: parquet file, parquet folder, or CSV.")],
    current: Annotated[str, typer.Argument(help="Table to judge, same kinds.")],
    categorical: Annotated[
        list[str] | None, typer.Option(help="Compare this column as categories (repeat for several).")
    ] = None,
    column: Annotated[
        list[str] | None, typer.Option(help="Compare only this column (repeat); default: every column.")
    ] = None,
    prediction: Annotated[
        str | None, typer.Option(help="A column of model scores, judged as prediction drift.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Folder for report.json and report.html.")] = Path("drift-report"),
    alpha: Annotated[
        float, typer.Option(min=1e-9, max=0.5, help="Family-wise false-alarm rate over all tests.")
    ] = 0.05,
    ks_min_distance: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Smallest KS distance that counts (numeric).")
    ] = 0.10,
    wasserstein_min_std: Annotated[
        float, typer.Option(min=0.0, help="Or smallest Wasserstein distance, in reference sd (numeric).")
    ] = 0.25,
    js_min_distance: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Smallest Jensen-Shannon distance that counts."),
    ] = 0.10,
    min_rows: Annotated[int, typer.Option(min=1, help="Fewer current rows: not judged.")] = 200,
    null_rate_increase: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Rise of a column's null rate that counts.")
    ] = 0.05,
    unseen_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share in categories the reference never had that counts.")
    ] = 0.01,
) -> None:
    """Drift of CURRENT against REFERENCE, column by column: JSON + HTML report; exit 1 when drift is found.

    Numeric columns: KS test and distance (significant and material), PSI, Wasserstein; text, boolean and
    --categorical columns: chi-square and Jensen-Shannon; every column: null-rate rise, unseen categories,
    constant values. Tests are Bonferroni-corrected over the columns.
    """
    from monitoring.config import DriftRules
    from monitoring.dataset_report import write_dataset_report
    from monitoring.datasets import compare_datasets

    rules = DriftRules(
        alpha=alpha, ks_min_distance=ks_min_distance, wasserstein_min_std=wasserstein_min_std,
        js_min_distance=js_min_distance, min_rows=min_rows,
        null_rate_increase=null_rate_increase, unseen_share=unseen_share,
    )  # fmt: skip
    result = compare_datasets(reference, current, categorical, column, prediction, rules)
    out.mkdir(parents=True, exist_ok=True)
    json_path, html_path = write_dataset_report(result, out)
    echo_json(
        {
            "verdict": result.verdict,
            "drifted": {f.name: f.status for f in result.drift.features if f.flagged},
            "prediction_drift": result.drift.score.status if result.drift.score else None,
            "reference_rows": result.reference_rows,
            "current_rows": result.current_rows,
            "seconds": round(result.seconds, 2),
            "report_html": str(html_path),
            "report_json": str(json_path),
        }
    )
    if result.verdict == "drift" or (result.drift.score is not None and result.drift.score.flagged):
        raise typer.Exit(DRIFT_FOUND_EXIT)
