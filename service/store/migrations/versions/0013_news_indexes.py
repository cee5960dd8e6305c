"""news indexes: the newest sessions with results and the newest schedule changes of a scope

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_sessions_results_status", "sessions", ["results_status"])
    op.create_index(
        "ix_changes_entity_action_championship", "changes", ["entity", "action", "championship"]
    )


def downgrade() -> None:
    op.drop_index("ix_changes_entity_action_championship", table_name="changes")
    op.drop_index("ix_sessions_results_status", table_name="sessions")
