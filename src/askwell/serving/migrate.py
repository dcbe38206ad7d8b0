"""The service's tables under Alembic: ``upgrade(engine)`` brings any database to the
newest schema, keeping its rows.

The migrations live in ``askwell/serving/migrations/versions`` (0001 is the baseline: the
tables as ``metadata.create_all`` made them before migrations existed). A database made
that way has the tables but no ``alembic_version``: it is stamped at the baseline, then
upgraded. The service runs :func:`upgrade` when it starts (so does ``askwell db upgrade``).
Several workers may start at once: on PostgreSQL a transaction-scoped advisory lock lets
one migrate while the others wait; on SQLite the loser of the race retries once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

BASELINE = "0001"
#: Any fixed 64-bit number: the advisory lock all askwell processes migrate under.
_PG_LOCK = 0x61736B77656C6C


def _config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    cfg = _config(None)  # type: ignore[arg-type]
    return str(ScriptDirectory.from_config(cfg).get_current_head())


def current(engine: Engine) -> str | None:
    """The database's revision (None: not under Alembic yet, or empty)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


def _upgrade_once(engine: Engine, target: str) -> None:
    from alembic import command

    with engine.begin() as con:
        if con.dialect.name == "postgresql":
            con.execute(sa.text("select pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        cfg = _config(con)
        names = set(sa.inspect(con).get_table_names())
        if "alembic_version" not in names and "predictions" in names:
            command.stamp(cfg, BASELINE)  # made by create_all before migrations existed
        command.upgrade(cfg, target)


def upgrade(engine: Engine, target: str = "head") -> str | None:
    """Migrate to ``target`` (default: the newest); returns the revision now in place."""
    try:
        _upgrade_once(engine, target)
    except sa.exc.SQLAlchemyError:
        time.sleep(0.2)  # another worker migrated at the same moment: its work is visible now
        _upgrade_once(engine, target)
    return current(engine)


def run_upgrade(settings: Any, *, db: str | None = None) -> dict[str, Any]:
    """``askwell db upgrade``: migrate the service's database; what it was and is now."""
    from askwell.errors import AskwellError
    from askwell.serving.config import service_settings
    from askwell.serving.store import make_engine

    s = service_settings(settings, **({"db": db} if db else {}))
    engine = make_engine(s.db_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        before = current(engine)
        after = upgrade(engine)
    except Exception as exc:
        raise AskwellError(f"could not migrate {where}: {exc}") from exc
    finally:
        engine.dispose()
    return {"database": where, "from": before, "to": after}
