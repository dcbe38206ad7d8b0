"""The service's tables under Alembic: a pre-migration database keeps its rows; the models
in store.py are what the newest migration makes. The PostgreSQL run of the same checks is
in tests/integration/test_serving_faults.py."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from askwell.serving import migrate
from askwell.serving.store import make_engine, metadata, now, precomputed


def old_schema_with_rows(engine: sa.engine.Engine) -> None:
    """A database as the service made it before migrations: the baseline tables, no
    alembic_version, rows in every table."""
    migrate.upgrade(engine, migrate.BASELINE)
    with engine.begin() as con:
        con.execute(sa.text("drop table alembic_version"))
        for i in range(3):
            con.execute(sa.text(
                "insert into predictions (request_id, created_at, model_name, score, fallback, "
                "abstained, low_confidence, cached) values (:r, :t, 'toy', 0.5, false, false, false, false)"),
                {"r": f"old-{i}", "t": now()})
        con.execute(sa.text("insert into feedback (request_id, created_at, kind) values ('old-1', :t, "
                            "'helpful')"), {"t": now()})
        con.execute(sa.text("insert into model_events (created_at, kind) values (:t, 'load')"),
                    {"t": now()})
    # the precomputed table appeared (issue 14) while the tables were still made by create_all
    precomputed.create(engine)
    with engine.begin() as con:
        con.execute(precomputed.insert(), [{"model_key": "m", "input_hash": "h", "payload": "{}",
                                            "loaded_at": now()}])


def check_upgraded_keeps_rows(engine: sa.engine.Engine) -> None:
    assert migrate.current(engine) is None
    assert migrate.upgrade(engine) == migrate.head() != migrate.BASELINE
    with engine.connect() as con:
        assert con.execute(sa.text("select count(*) from predictions")).scalar() == 3
        assert con.execute(sa.text("select count(*) from feedback")).scalar() == 1
        assert con.execute(sa.text("select count(*) from model_events")).scalar() == 1
        assert con.execute(sa.text("select count(*) from precomputed")).scalar() == 1
        rows = con.execute(sa.text("select request_id, client_request_id, source from predictions "
                                   "order by request_id")).all()
    assert [tuple(r) for r in rows] == [("old-0", None, None), ("old-1", None, None),
                                        ("old-2", None, None)]
    assert migrate.upgrade(engine) == migrate.head()  # idempotent


def check_models_match_migrations(engine: sa.engine.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    migrate.upgrade(engine)
    with engine.connect() as con:
        diff = compare_metadata(MigrationContext.configure(con, opts={"compare_type": True}), metadata)
    assert [d for d in diff if not (isinstance(d, tuple) and d[0] == "remove_table")] == []


def test_a_database_from_before_migrations_is_upgraded_with_its_rows(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        old_schema_with_rows(engine)
        check_upgraded_keeps_rows(engine)
    finally:
        engine.dispose()


def test_the_tables_in_store_are_what_the_migrations_make(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        check_models_match_migrations(engine)
    finally:
        engine.dispose()


def test_askwell_db_upgrade_migrates_and_reports(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from askwell.cli import app as cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    old_schema_with_rows(engine)
    engine.dispose()
    result = CliRunner().invoke(cli, ["db", "upgrade", "--db", url, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out == {"database": url, "from": None, "to": migrate.head()}
