"""``askwell serve``: the API and the web editor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from askwell.cli.common import commands, err_console, settings
from askwell.errors import AskwellError

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
    """Serve the API and the web editor: the champion `askwell quickstart` promoted in this home
    if there is one, else the packaged default model (the first line says which, and why)."""
    from askwell.serving.commands import choose_model, run_serve

    s = settings()
    if model and model_path:
        raise AskwellError("give --model or --model-path, not both")
    choice = choose_model(s, model, model_path)
    err_console().print(escape(choice.reason), highlight=False, soft_wrap=True)
    run_serve(s, host=host, port=port, workers=workers, db=db, cache=cache, model=choice.model,
              model_path=choice.model_path, access_log=access_log, precomputed=precomputed)
