"""Reading and writing published feeds and the publication counter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session as OrmSession

from ..store.engine import conflict_insert
from .feeds import CALENDAR, FeedSpec
from .models import PublishedFeed, PublishState
from .rendering import Rendered, compress

# The PostgreSQL channel told of every publication (see ``listener``).
PUBLISHED_CHANNEL = "gridfeed_published"


@dataclass(frozen=True)
class StoredFeed:
    """A published feed as a web process serves it (no ORM object, nothing lazy)."""

    key: str
    content_type: str
    body: bytes
    gzip_body: bytes
    etag: str
    last_modified: dt.datetime
    tags: tuple[str, ...]
    filename: str | None


_COLUMNS = (
    PublishedFeed.key,
    PublishedFeed.content_type,
    PublishedFeed.body,
    PublishedFeed.gzip_body,
    PublishedFeed.etag,
    PublishedFeed.last_modified,
    PublishedFeed.tags,
    PublishedFeed.filename,
)


def lookup(session: OrmSession, key: str) -> StoredFeed | None:
    """The stored feed under ``key``, or None."""
    row = session.execute(select(*_COLUMNS).where(PublishedFeed.key == key)).first()
    if row is None:
        return None
    return StoredFeed(
        row.key,
        row.content_type,
        row.body,
        row.gzip_body,
        row.etag,
        row.last_modified,
        tuple(row.tags.split()),
        row.filename,
    )


def keys_in_scopes(session: OrmSession, scopes: Iterable[str]) -> Sequence[str]:
    """Every stored key (each origin and variant) of the given scopes."""
    wanted = sorted(set(scopes))
    if not wanted:
        return []
    return session.scalars(select(PublishedFeed.key).where(PublishedFeed.scope.in_(wanted))).all()


def file_facts(session: OrmSession) -> list[tuple[str, int, dt.datetime]]:
    """``(key, size of the body, last modified)`` of every stored feed, without the bodies."""
    rows = session.execute(
        select(PublishedFeed.key, func.length(PublishedFeed.body), PublishedFeed.last_modified)
    ).all()
    return [(key, size, modified) for key, size, modified in rows]


def scopes_of_keys(session: OrmSession) -> list[tuple[str, str]]:
    """``(key, scope)`` of every stored feed."""
    return [
        (key, scope)
        for key, scope in session.execute(select(PublishedFeed.key, PublishedFeed.scope))
    ]


def remove(session: OrmSession, keys: Iterable[str]) -> int:
    """Forget the stored feeds under ``keys``; return how many there were."""
    wanted = sorted(set(keys))
    if not wanted:
        return 0
    return session.execute(delete(PublishedFeed).where(PublishedFeed.key.in_(wanted))).rowcount or 0


def origins(session: OrmSession) -> list[str]:
    """Every origin something has been published for (embedded default: seen in requests)."""
    everything = FeedSpec(CALENDAR, "all")
    keys = session.scalars(
        select(PublishedFeed.key).where(PublishedFeed.scope == everything.scope)
    ).all()
    return sorted({k.removesuffix(everything.path) for k in keys if k.endswith(everything.path)})


def save(
    session: OrmSession,
    key: str,
    scope: str,
    rendered: Rendered,
    filename: str | None,
    data_version: int,
    now: dt.datetime,
) -> dict[str, object] | None:
    """Store ``rendered`` under ``key``; the new row's values if its bytes changed, None if
    they did not. Only the old ETag is read, never the old bytes."""
    old = session.execute(
        select(PublishedFeed.etag, PublishedFeed.last_modified).where(PublishedFeed.key == key)
    ).first()
    if old is not None and tuple(old) == (rendered.etag, rendered.last_modified):
        return None
    values: dict[str, object] = {
        "scope": scope,
        "content_type": rendered.content_type,
        "body": rendered.body,
        "gzip_body": compress(rendered.body),
        "etag": rendered.etag,
        "last_modified": rendered.last_modified,
        "data_version": data_version,
        "tags": " ".join(rendered.tags),
        "filename": filename,
        "published_at": now,
    }
    if old is None:
        # An upsert: another process (a worker, or a web process publishing the same variant
        # on first request) may insert this key between our read and our write.
        statement = conflict_insert(session, PublishedFeed).values(key=key, **values)
        session.execute(
            statement.on_conflict_do_update(index_elements=[PublishedFeed.key], set_=values)
        )
    else:
        session.execute(update(PublishedFeed).where(PublishedFeed.key == key).values(**values))
    return values


def publish_version(session: OrmSession) -> tuple[int, bool]:
    """The publication counter and whether everything has been published at least once."""
    row = session.execute(
        select(PublishState.version, PublishState.complete_at).where(PublishState.id == 1)
    ).first()
    if row is None:
        return 0, False
    return row.version, row.complete_at is not None


def fingerprint(session: OrmSession) -> str | None:
    """The settings-and-code fingerprint of the last complete publication."""
    return session.scalar(select(PublishState.fingerprint).where(PublishState.id == 1))


def bump_version(session: OrmSession, now: dt.datetime, complete: str | None = None) -> None:
    """Count a publication; ``complete`` (a fingerprint) marks a publication of everything.
    On PostgreSQL, web processes listening on ``PUBLISHED_CHANNEL`` hear of it on commit."""
    values: dict[str, object] = {"version": PublishState.version + 1}
    if complete is not None:
        values["complete_at"] = now
        values["fingerprint"] = complete
    session.execute(update(PublishState).where(PublishState.id == 1).values(**values))
    if session.get_bind().dialect.name == "postgresql":
        # Delivered when this transaction commits, never if it rolls back.
        session.execute(text(f"NOTIFY {PUBLISHED_CHANNEL}"))
