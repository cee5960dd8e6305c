"""The API's tables: bearer tokens (hashed) and idempotency records, and their lookups."""

import datetime as dt

from sqlalchemy import (
    JSON,
    Integer,
    String,
    Text,
    UniqueConstraint,
    delete,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm import Session as OrmSession

from ..store.base import Base, UTCDateTime

TOKEN_PERMISSIONS = ("calendar", "results", "articles", "webhooks", "stats")


class ApiToken(Base):
    """A bearer token for the write API. Only a hash of the secret is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public part of the token ("gf_<public_id>_<secret>"), used to find the row.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    # None means every championship; otherwise a list of championship slugs.
    championships: Mapped[list[str] | None] = mapped_column(JSON)
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """A POST answered under an ``Idempotency-Key``: a retry gets the same answer, not a copy."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    # Indexed: the worker purges records older than IDEMPOTENCY_HOURS by it.
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


def idempotency_record(session: OrmSession, token_id: str, key: str) -> IdempotencyRecord | None:
    """The answer stored for a token's Idempotency-Key, or None."""
    return session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.token_id == token_id, IdempotencyRecord.key == key
        )
    )


def delete_idempotency_records_before(session: OrmSession, cutoff: dt.datetime) -> int:
    """Delete idempotency records made before ``cutoff``; return how many."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return int(result.rowcount or 0)
