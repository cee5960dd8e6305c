"""season publishing: circuit length, timing-sheet result fields, slug redirects

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RESULT_COLUMNS = ("laps", "total_time_ms", "gap_ms", "gap_laps", "best_lap_ms")


def upgrade() -> None:
    with op.batch_alter_table("circuits") as batch:
        batch.add_column(sa.Column("length_m", sa.Integer(), nullable=True))
    with op.batch_alter_table("results") as batch:
        for name in RESULT_COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    op.create_table(
        "slug_redirects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("old_slug", sa.String(length=100), nullable=False),
        sa.Column("new_slug", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("entity", "old_slug"),
    )


def downgrade() -> None:
    op.drop_table("slug_redirects")
    with op.batch_alter_table("results") as batch:
        for name in reversed(RESULT_COLUMNS):
            batch.drop_column(name)
    with op.batch_alter_table("circuits") as batch:
        batch.drop_column("length_m")
