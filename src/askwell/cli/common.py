"""What every command module shares: the one ``--json`` / ``--out`` convention, consoles,
settings, and the one place JSON reaches stdout.

Convention (docs/design.md, "The CLI"):

- ``--json`` is a flag: the command's result goes to stdout as JSON and nothing else does
  (progress and spinners go to stderr);
- ``--out PATH`` names the file (or folder) the command writes, when it writes one;
- domain functions return data; only this package prints it.
"""

from __future__ import annotations

import json
import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Annotated, Any

import typer
from rich.console import Console

from askwell.config import Settings

#: ``--json``: print the result as JSON on stdout (the same option object for every command).
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on stdout (nothing else goes there).")
]


state: dict[str, Any] = {"debug": False}


def group(help: str) -> typer.Typer:
    """A command group (``askwell NAME ...``) with the package's defaults."""
    return typer.Typer(help=help, no_args_is_help=True, pretty_exceptions_enable=False,
                       add_completion=False)


def commands() -> typer.Typer:
    """A module of top-level commands (merged into ``askwell`` by ``add_typer`` without a name)."""
    return typer.Typer(pretty_exceptions_enable=False, add_completion=False)


def console() -> Console:
    return Console(stderr=False)


def err_console() -> Console:
    return Console(stderr=True)


def busy(what: str) -> AbstractContextManager[Any]:
    """A spinner on stderr while something slow runs, on a terminal only (logs and pipes
    get no animation, and stdout stays clean for ``--json``)."""
    err = err_console()
    return err.status(what) if err.is_terminal else nullcontext()


def settings() -> Settings:
    return Settings()


def emit_json(payload: Any) -> None:
    """Machine output on stdout, nothing else."""
    sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
