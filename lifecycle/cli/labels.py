"""Label commands: ``labels ingest`` (a case-management export into the label feed)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lifecycle.cli.app import labels_app
from lifecycle.cli.context import echo_json, invocation

__all__: list[str] = []


@labels_app.command("ingest")
def ingest_command(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Parquet or CSV: transaction_id, is_fraud, label_time, source.")
    ],
    name: Annotated[
        str | None,
        typer.Option(help="The batch's name in the feed; default: the file's stem and its content's hash."),
    ] = None,
) -> None:
    """Check a batch of labels (unknown transactions, labels before their transaction, duplicates) and
    add it to the label feed that monitoring and retraining read. Nothing is stored if any row is refused."""
    run = invocation(ctx, feast=False)
    from lifecycle.labels import batch_name, ingest_labels, read_label_file

    stored = ingest_labels(run.settings.layout, read_label_file(file), name or batch_name(file))
    echo_json(
        {"stored": str(stored.path), "rows": stored.rows, "frauds": stored.frauds, "sources": stored.sources}
    )
