"""``askwell serve``: the API and the web editor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from askwell.cli.common import commands, settings

app = commands()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
    db: Annotated[str | None, typer.Option(help="Prediction log URL (default SQLite in the home "
                                                "folder; postgresql+psycopg://...).")] = None,
    cache: Annotated[str | None, typer.Option(help="memory (default), off, or redis://host:port/0.")] = None,
    model: Annotated[str | None, typer.Option(help="Registered NAME[:ALIAS|VERSION] (alias champion "
                                                   "by default).")] = None,
    model_path: Annotated[Path | None, typer.Option(help="Serve the model in this folder.")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = False,
    precomputed: Annotated[Path | None, typer.Option(help="Load this `askwell batch score "
                                                     "--suggestions` output first: its answers are "
                                                     "served before computing.")] = None,
) -> None:
    """Serve the API and the web editor (packaged default model unless told otherwise)."""
    from askwell.serving.commands import run_serve

    run_serve(settings(), host=host, port=port, workers=workers, db=db, cache=cache, model=model,
              model_path=model_path, access_log=access_log, precomputed=precomputed)
