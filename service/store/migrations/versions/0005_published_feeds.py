"""published feeds, publish jobs and the publication counter

Revision ID: 0005
Revises: 0009 (chained after main's latest; was 0004)
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_feeds",
        sa.Column("key", sa.String(length=1000), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("gzip_body", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_published_feeds_scope", "published_feeds", ["scope"])
    op.create_table(
        "publish_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope"),
    )
    state = op.create_table(
        "publish_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("complete_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one row exists from the start, so concurrent publishers only ever update it.
    op.bulk_insert(state, [{"id": 1, "version": 0, "complete_at": None, "fingerprint": None}])


def downgrade() -> None:
    op.drop_table("publish_state")
    op.drop_table("publish_jobs")
    op.drop_index("ix_published_feeds_scope", table_name="published_feeds")
    op.drop_table("published_feeds")
