"""The ``askwell`` command: a thin shell over the package's functions.

One module per command (or command group); each holds a Typer ``app`` and is registered
here with one ``add_typer`` line: a named group (``askwell data ...``) with ``name=``, top-level
commands (``askwell analyze``) without. Commands call domain functions that return data and
print it here: a readable table by default, JSON on stdout with ``--json``, files with
``--out PATH`` (see :mod:`askwell.cli.common`). An :class:`~askwell.errors.AskwellError` becomes
one red line and exit code 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from askwell.cli import (
    analyze,
    batch,
    data,
    evaluate,
    feedback,
    ingest,
    models,
    quickstart,
    serve,
    train,
)
from askwell.cli.common import emit_json, err_console, state
from askwell.errors import AskwellError

__all__ = ["app", "emit_json", "main"]

app = typer.Typer(
    name="askwell",
    help="askwell: score a question, suggest edits, and run the ML lifecycle behind it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state["debug"] = debug


# One line per command module. Top-level commands first, in the order of the main job.
app.add_typer(ingest.app)
app.add_typer(quickstart.app)
app.add_typer(data.app, name="data")
app.add_typer(analyze.app)
app.add_typer(train.app)
app.add_typer(models.app, name="models")
app.add_typer(evaluate.app)
app.add_typer(serve.app)
app.add_typer(feedback.app, name="feedback")
app.add_typer(batch.app, name="batch")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except AskwellError as exc:
        if state["debug"]:
            raise
        err_console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console().print("[red]interrupted[/]")
        sys.exit(130)
