"""``askwell data ...``: the datasets in the store and their data-quality report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, console, emit_json, group, settings

app = group("Datasets: list, report.")


@app.command("list")
def data_list(as_json: JsonFlag = False) -> None:
    """List the datasets in the store, newest first."""
    from askwell.data.store import DatasetStore

    found = DatasetStore(settings().datasets_dir).list()
    if as_json:
        emit_json([{"id": d.id, **{k: d.meta[k] for k in ("created", "rows")}} for d in found])
        return
    table = Table("id", "created", "questions", "sites")
    for d in found:
        table.add_row(d.id, d.meta.get("created", ""), str(d.meta.get("rows")), str(len(d.sites)))
    console().print(table)


@app.command("report")
def data_report(
    dataset: Annotated[str | None, typer.Argument(help="Dataset id or prefix (default: latest).")] = None,
    label: Annotated[str, typer.Option(help="Label spec: grade | book.")] = "grade",
    html: Annotated[Path | None, typer.Option(help="Write the HTML page here (default: reports folder).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Data-quality report: format, quality, distributions, per-class stats, split leakage."""
    from askwell.data.commands import run_data_report

    report, path = run_data_report(settings(), dataset, label=label, html=html)
    if as_json:
        emit_json({**report, "html": str(path)})
        return
    print_data_report(report, path)


def print_data_report(report: dict[str, Any], path: Path) -> None:
    from askwell.data.report import render_terminal

    out = console()
    render_terminal(report, out)
    out.print(f"HTML report -> {escape(str(path))}", highlight=False)
