"""series year: the calendar year series calendars were last published for

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publish_state") as batch:
        batch.add_column(sa.Column("series_year", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("publish_state") as batch:
        batch.drop_column("series_year")
