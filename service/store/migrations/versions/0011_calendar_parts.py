"""calendar parts: each round's encoded events, stored, so calendars and their variants are
joined from bytes

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_parts",
        sa.Column("site", sa.String(length=1000), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("competitor_id", sa.Integer(), nullable=False),
        sa.Column("stamp", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("site", "round_id", "competitor_id"),
    )


def downgrade() -> None:
    op.drop_table("calendar_parts")
