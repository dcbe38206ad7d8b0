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
from typing import Annotated, Any

import typer

from askwell.cli import (
    analyze,
    batch,
    data,
    db,
    evaluate,
    feedback,
    filtering,
    ingest,
    models,
    quickstart,
    serve,
    train,
)
from askwell.cli.common import emit_json, err_console, state
from askwell.errors import AskwellError

__all__ = ["app", "command", "emit_json", "main"]

app = typer.Typer(
    name="askwell",
    help="askwell: score a question, suggest edits, and run the ML lifecycle behind it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from askwell import __version__

        sys.stdout.write(f"askwell {__version__}\n")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
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
app.add_typer(filtering.app, name="filter")
app.add_typer(db.app, name="db")


def command() -> Any:
    """The Click command behind ``app``, with help fit for people: an on/off flag shows no
    ``<bool>`` type (it takes no value), which Typer's help would print for every flag."""
    root = typer.main.get_command(app)

    def walk(cmd: Any) -> None:
        for param in cmd.params:
            if getattr(param, "is_flag", False) and param.metavar is None:
                param.metavar = ""
        made = cmd.get_help_option  # --help is made per call, not kept in params

        def help_option(ctx: Any, made: Any = made) -> Any:
            option = made(ctx)
            if option is not None:
                option.metavar = ""
            return option

        cmd.get_help_option = help_option
        for sub in getattr(cmd, "commands", {}).values():
            walk(sub)

    walk(root)
    return root


def main() -> None:
    """Console-script entry point."""
    try:
        command()(prog_name="askwell")
    except AskwellError as exc:
        if state["debug"]:
            raise
        err_console().print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console().print("[red]interrupted[/]")
        sys.exit(130)
