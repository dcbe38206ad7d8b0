"""The ``askwell`` command: a thin shell over the package's functions.

Every command validates its input, prints a readable table by default and JSON with
``--json``, and turns an :class:`~askwell.errors.AskwellError` into one red line and a
non-zero exit code (a traceback only with ``--debug``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from askwell.config import Settings
from askwell.errors import AskwellError

app = typer.Typer(
    name="askwell",
    help="askwell: score a question, suggest edits, and run the ML lifecycle behind it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Datasets: list, report.", no_args_is_help=True)
app.add_typer(data_app, name="data")

_state: dict[str, Any] = {"debug": False}


def console() -> Console:
    return Console(stderr=False)


def err_console() -> Console:
    return Console(stderr=True)


def settings() -> Settings:
    return Settings()


def emit_json(payload: Any) -> None:
    """Machine output on stdout, nothing else."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    _state["debug"] = debug


# ---------------------------------------------------------------- ingest
@app.command()
def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Site dump folders, Posts.xml files or .7z archives. "
                            "Default: every site in the shared data folder."),
    ] = None,
    site: Annotated[str | None, typer.Option(help="Site name (one input only).")] = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if the dataset exists.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Ingest Stack Exchange dumps into a versioned question dataset."""
    from askwell.data.commands import run_ingest

    run_ingest(settings(), paths, site=site, force=force, as_json=as_json)


@app.command()
def quickstart() -> None:
    """The main job on embedded defaults: ingest every shared site and report on the data."""
    from askwell.data.commands import run_ingest

    run_ingest(settings(), None, site=None, force=False, as_json=False)


# ---------------------------------------------------------------- data
@data_app.command("list")
def data_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except AskwellError as exc:
        if _state["debug"]:
            raise
        err_console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console().print("[red]interrupted[/]")
        sys.exit(130)


if __name__ == "__main__":
    main()
