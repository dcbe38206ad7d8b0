"""``askwell ingest``: Stack Exchange dumps into a versioned question dataset."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from askwell.cli.common import JsonFlag, commands, console, emit_json, settings

if TYPE_CHECKING:
    from askwell.data.ingest import IngestResult

app = commands()


@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Site dump folders, Posts.xml files or .7z archives. "
                            "Default: every site in the shared data folder."),
    ] = None,
    site: Annotated[str | None, typer.Option(help="Site name (one input only).")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if the dataset exists.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Ingest Stack Exchange dumps into a versioned question dataset."""
    from askwell.data.commands import run_ingest, summary_payload

    result = run_ingest(settings(), paths, site=site, force=force, quiet=as_json)
    if as_json:
        emit_json(summary_payload(result))
        return
    print_ingest(result)


def print_ingest(result: IngestResult) -> None:
    """The per-site table and one line for the dataset."""
    from askwell.data.commands import summary_payload

    payload = summary_payload(result)
    out = console()
    table = Table("site", "kind", "rows read", "questions", "rejected", "warnings", title="ingest")
    for s in result.dataset.meta["sites"]:
        rejected = ", ".join(f"{k}: {v}" for k, v in s["rejected"].items()) or "0"
        table.add_row(escape(s["site"]), s["kind"], f"{s['rows_read']:,}", f"{s['questions']:,}",
                      escape(rejected), escape("; ".join(s["warnings"])))
    out.print(table)
    state = "reused (inputs unchanged)" if result.reused else "written"
    rejected_total = sum(payload["rejected"].values())
    out.print(
        f"dataset [bold]{result.dataset.id}[/] {state}: {payload['questions']:,} questions "
        f"from {payload['rows_read']:,} rows, {rejected_total:,} rejected, "
        f"{result.seconds:.1f}s -> {escape(str(result.dataset.path))}", highlight=False,
    )
