"""webhook formats (discord, slack) and subscriber counts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.add_column(
            sa.Column("format", sa.String(length=20), server_default="standard", nullable=False)
        )
    op.create_table(
        "stats_salts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("salt", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    op.create_table(
        "feed_fetchers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("feed", sa.String(length=300), nullable=False),
        sa.Column("championship", sa.String(length=100), nullable=True),
        sa.Column("fetcher", sa.String(length=80), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "feed", "fetcher"),
    )
    op.create_index("ix_feed_fetchers_day", "feed_fetchers", ["day"])
    op.create_table(
        "feed_daily_counts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("feed", sa.String(length=300), nullable=False),
        sa.Column("championship", sa.String(length=100), nullable=True),
        sa.Column("direct", sa.Integer(), nullable=False),
        sa.Column("aggregators", sa.Integer(), nullable=False),
        sa.Column("subscribers", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "feed"),
    )
    op.create_index("ix_feed_daily_counts_day", "feed_daily_counts", ["day"])
    op.create_index("ix_feed_daily_counts_championship", "feed_daily_counts", ["championship"])


def downgrade() -> None:
    op.drop_index("ix_feed_daily_counts_championship", "feed_daily_counts")
    op.drop_index("ix_feed_daily_counts_day", "feed_daily_counts")
    op.drop_table("feed_daily_counts")
    op.drop_index("ix_feed_fetchers_day", "feed_fetchers")
    op.drop_table("feed_fetchers")
    op.drop_table("stats_salts")
    with op.batch_alter_table("webhook_subscriptions") as batch:
        batch.drop_column("format")
