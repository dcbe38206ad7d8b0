"""``askwell db ...``: the service's database (prediction log, feedback, model events)."""

from __future__ import annotations

from typing import Annotated

import typer

from askwell.cli.common import JsonFlag, console, emit_json, group, settings

app = group("The service's database: migrate it with Alembic.")


@app.command("upgrade")
def db_upgrade(
    db: Annotated[str | None, typer.Option(help="Database URL (default: the service's).")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Bring the tables to the newest schema, keeping their rows (the service does this at start)."""
    from askwell.serving.migrate import run_upgrade

    payload = run_upgrade(settings(), db=db)
    if as_json:
        emit_json(payload)
        return
    console().print(f"{payload['database']}: {payload['from'] or 'unversioned'} -> {payload['to']}",
                    highlight=False, markup=False)
