"""precomputed: answers loaded from a batch output, keyed by model key and input hash (the
hybrid service, issue 14). A database made by ``create_all`` while this table existed but
migrations did not may already have it: then it is kept as it is.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "precomputed" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "precomputed",
        sa.Column("model_key", sa.String(400), primary_key=True),
        sa.Column("input_hash", sa.String(64), primary_key=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("batch", sa.String(64)),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("precomputed")
