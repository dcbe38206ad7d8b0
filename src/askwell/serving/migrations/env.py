"""Alembic environment for the service's tables (run through askwell.serving.migrate)."""

from __future__ import annotations

from alembic import context

from askwell.serving.store import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
