"""``askwell feedback ...``: the service's feedback as labelled data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from askwell.cli.common import JsonFlag, console, emit_json, group, settings

app = group("Feedback from the service: export as labelled data.")


@app.command("export")
def feedback_export(
    out: Annotated[Path, typer.Option(help="Output file: .parquet, .csv or .jsonl.")] = Path("feedback.parquet"),
    db: Annotated[str | None, typer.Option(help="Feedback store URL (default: the service's).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Write the feedback joined to its predictions, as labelled data."""
    from askwell.serving.commands import run_feedback_export

    payload = run_feedback_export(settings(), out=out, db=db)
    if as_json:
        emit_json(payload)
        return
    console().print(f"{payload['rows']:,} feedback rows written to {escape(payload['path'])}", highlight=False)
