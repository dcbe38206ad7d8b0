"""Baseline: the prediction log, feedback and model events as the service first made them
(``metadata.create_all`` before migrations existed; such a database is stamped at this
revision, then upgraded).

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("request_id", sa.String(64), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("model_family", sa.String(32)),
        sa.Column("model_name", sa.String(200)),
        sa.Column("model_version", sa.String(64)),
        sa.Column("dataset_id", sa.String(64)),
        sa.Column("input_hash", sa.String(64)),
        sa.Column("input_chars", sa.Integer),
        sa.Column("site", sa.String(200)),
        sa.Column("score", sa.Float),
        sa.Column("verdict", sa.String(16)),
        sa.Column("confidence", sa.Float),
        sa.Column("suggestions", sa.JSON),
        sa.Column("warnings", sa.JSON),
        sa.Column("fallback", sa.Boolean, nullable=False),
        sa.Column("abstained", sa.Boolean, nullable=False),
        sa.Column("low_confidence", sa.Boolean, nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False),
        sa.Column("latency_ms", sa.Float),
    )
    op.create_index("ix_predictions_created_at", "predictions", ["created_at"])
    op.create_index("ix_predictions_input_hash", "predictions", ["input_hash"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("suggestion_id", sa.String(100)),
        sa.Column("value", sa.Float),
        sa.Column("comment", sa.Text),
    )
    op.create_index("ix_feedback_request_id", "feedback", ["request_id"])
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200)),
        sa.Column("from_name", sa.String(200)),
        sa.Column("from_version", sa.String(64)),
        sa.Column("to_name", sa.String(200)),
        sa.Column("to_version", sa.String(64)),
        sa.Column("to_source", sa.String(1000)),
        sa.Column("detail", sa.Text),
    )
    op.create_index("ix_model_events_created_at", "model_events", ["created_at"])


def downgrade() -> None:
    op.drop_table("model_events")
    op.drop_table("feedback")
    op.drop_table("predictions")
