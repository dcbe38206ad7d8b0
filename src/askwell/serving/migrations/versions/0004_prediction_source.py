"""predictions.source: where each logged answer came from, ``computed`` or ``precomputed``
(a batch job's answer served by the hybrid service, issue 14), so the log says which
answers the model computed on the spot. Rows logged before it have NULL: unknown.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_column("source")
