"""trust: idempotency records expire (index on created_at) and keep no secret in clear

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NOTE = (
    "The secret was shown once, in the first response to this request, and is not kept "
    "in clear; POST {href}/rotate-secret to get a new one."
)


def upgrade() -> None:
    op.create_index(
        "ix_idempotency_records_created_at", "idempotency_records", ["created_at"], unique=False
    )
    # Answers stored before this revision kept webhook signing secrets in clear: redact them
    # the way the application now does (a copy of the same words, as a migration must not
    # import the application).
    records = sa.table(
        "idempotency_records", sa.column("id", sa.Integer), sa.column("response_body", sa.Text)
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(records.c.id, records.c.response_body).where(
            records.c.response_body.like('%"secret"%')
        )
    ).all()
    for row_id, body in rows:
        data = json.loads(body)
        if isinstance(data, dict) and "secret" in data:
            href = data.get("href", "")
            data.pop("secret")
            data["secret_note"] = NOTE.format(href=href)
            conn.execute(
                records.update()
                .where(records.c.id == row_id)
                .values(response_body=json.dumps(data))
            )


def downgrade() -> None:
    op.drop_index("ix_idempotency_records_created_at", table_name="idempotency_records")
