"""The published feeds, the queue of publish work and the publication counter (tables)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base, UTCDateTime


class PublishedFeed(Base):
    """One feed's current bytes, keyed by its canonical absolute URL (its ``rel="self"``)."""

    __tablename__ = "published_feeds"

    key: Mapped[str] = mapped_column(String(1000), primary_key=True)
    # The scope the feed belongs to ("calendar:championship:<slug>", ...): what a change
    # republishes. The key's query holds the options, so a variant is republished with it.
    scope: Mapped[str] = mapped_column(String(300), index=True)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    gzip_body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    last_modified: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    data_version: Mapped[int] = mapped_column(Integer)
    # Space-separated purge tags for a CDN (Surrogate-Key / Cache-Tag).
    tags: Mapped[str] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PublishJob(Base):
    """A scope waiting to be published again. One row per scope: repeated work coalesces."""

    __tablename__ = "publish_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(300), unique=True)
    # Bumped by every write that asks again; a worker deletes the row only if it is unchanged
    # since its claim, so a write during a publish is published again.
    requested: Mapped[int] = mapped_column(Integer)
    requested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PublishState(Base):
    """A single row: bumped whenever published bytes change, so web processes can poll it."""

    __tablename__ = "publish_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    # Set once everything has been published at least once (readiness).
    complete_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A hash of the settings and code the bytes were rendered with: when it differs at start,
    # everything is published again.
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    # The calendar year series calendars (current and next season) were last queued for: the
    # worker queues them again when the year moves on (see ``new_year``).
    series_year: Mapped[int | None] = mapped_column(Integer)


class CalendarPart(Base):
    """One round's encoded events as the calendars on one site show them (``calendars.parts``),
    so any calendar and any variant of it is built by joining stored bytes."""

    __tablename__ = "calendar_parts"

    # The site the events were rendered for: feed domain (UIDs) and origin (URLs).
    site: Mapped[str] = mapped_column(String(1000), primary_key=True)
    round_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The competitor whose own results the events show first; 0 for every other feed.
    competitor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The round's stamp (``publish.skeleton``) when the part was made: equal stamps, equal part.
    stamp: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
