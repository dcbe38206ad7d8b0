"""predictions.client_request_id: the client's X-Request-ID, kept for correlation (the
primary key ``request_id`` is now always made by the service, so a reused client id no
longer collides and loses rows; issue 13).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.add_column(sa.Column("client_request_id", sa.String(64), nullable=True))
        batch.create_index("ix_predictions_client_request_id", ["client_request_id"])


def downgrade() -> None:
    with op.batch_alter_table("predictions") as batch:
        batch.drop_index("ix_predictions_client_request_id")
        batch.drop_column("client_request_id")
