"""The domain model: championships, circuits, rounds, sessions, entries, results, articles.

Slugs are the public identifiers. Database ids never leave the process: feed UIDs, URLs and
API ids are all built from slugs (and round numbers), so they survive re-imports and moves.

Session times are stored as the circuit's local wall time (date and time, each of which may be
unknown) plus the circuit's IANA zone. The UTC instant is derived (see ``timing.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..store.base import Base, UTCDateTime


class Circuit(Base):
    __tablename__ = "circuits"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    locality: Mapped[str | None] = mapped_column(String(200))
    country_code: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # The lap length in metres, as the circuit publishes it.
    length_m: Mapped[int | None] = mapped_column(Integer)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str | None] = mapped_column(String(2))


class Competitor(Base):
    """A driver. Team and car belong to an entry, per championship."""

    __tablename__ = "competitors"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str | None] = mapped_column(String(2))


class Championship(Base):
    __tablename__ = "championships"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    series: Mapped[str] = mapped_column(String(200))
    season: Mapped[int] = mapped_column(Integer)
    short_name: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    website: Mapped[str | None] = mapped_column(String(500))

    rounds: Mapped[list[Round]] = relationship(
        back_populates="championship", order_by="Round.number"
    )
    entries: Mapped[list[Entry]] = relationship(back_populates="championship", order_by="Entry.id")


class Round(Base):
    """One event (race weekend) of a championship, addressed by its number."""

    __tablename__ = "rounds"
    __table_args__ = (UniqueConstraint("championship_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    championship_id: Mapped[int] = mapped_column(ForeignKey("championships.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    circuit_id: Mapped[int] = mapped_column(ForeignKey("circuits.id"))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    field_size: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    # iCal SEQUENCE: goes up when dates, status or circuit change.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)

    championship: Mapped[Championship] = relationship(back_populates="rounds")
    circuit: Mapped[Circuit] = relationship()
    sessions: Mapped[list[Session]] = relationship(
        back_populates="round", order_by="Session.position"
    )

    @property
    def display_name(self) -> str:
        """The round's name, falling back to its circuit's."""
        return self.name or self.circuit.name


class Session(Base):
    """A practice, qualifying, race or other session of a round."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("round_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"))
    slug: Mapped[str] = mapped_column(String(100))
    # Order within the round as listed in the data; not part of any identifier.
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    local_date: Mapped[dt.date | None] = mapped_column(Date)
    local_time: Mapped[dt.time | None] = mapped_column(Time)
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    # Which occurrence a repeated wall time (clocks going back) means: 0 the first (RFC 5545
    # §3.3.5), 1 the second. Always 0 for a wall time that happens once.
    fold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # What the organiser said about an unknown time ("morning"), shown next to "time TBC".
    time_note: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    # iCal SEQUENCE: goes up when time, status or place changes, and when results change.
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Indexed: news feeds look for the newest sessions with results.
    results_status: Mapped[str] = mapped_column(String(20), default="none", index=True)
    results_published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    results_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    results_revision: Mapped[int] = mapped_column(Integer, default=0)
    results_note: Mapped[str | None] = mapped_column(Text)

    round: Mapped[Round] = relationship(back_populates="sessions")
    results: Mapped[list[Result]] = relationship(
        back_populates="session", order_by="Result.id", cascade="all, delete-orphan"
    )


class Entry(Base):
    """A car entered in a championship: team, car and the drivers who share it."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("championship_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    championship_id: Mapped[int] = mapped_column(ForeignKey("championships.id"))
    slug: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    car: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(10))
    car_class: Mapped[str | None] = mapped_column(String(50))

    championship: Mapped[Championship] = relationship(back_populates="entries")
    team: Mapped[Team | None] = relationship()
    drivers: Mapped[list[EntryDriver]] = relationship(
        back_populates="entry", order_by="EntryDriver.position", cascade="all, delete-orphan"
    )

    @property
    def competitors(self) -> list[Competitor]:
        """The drivers of this entry, in listed order."""
        return [link.competitor for link in self.drivers]


class EntryDriver(Base):
    __tablename__ = "entry_drivers"
    __table_args__ = (UniqueConstraint("entry_id", "competitor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    competitor_id: Mapped[int] = mapped_column(ForeignKey("competitors.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    entry: Mapped[Entry] = relationship(back_populates="drivers")
    competitor: Mapped[Competitor] = relationship()


class Result(Base):
    """One line of a session's classification, for one entry (car)."""

    __tablename__ = "results"
    __table_args__ = (UniqueConstraint("session_id", "entry_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    # The driver credited, when only one of the entry's drivers took part (a qualifying).
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("competitors.id"))
    position: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20), default="classified")
    class_position: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    # Timing-sheet fields, all optional: times in milliseconds; a gap is a time or whole laps.
    laps: Mapped[int | None] = mapped_column(Integer)
    total_time_ms: Mapped[int | None] = mapped_column(Integer)
    gap_ms: Mapped[int | None] = mapped_column(Integer)
    gap_laps: Mapped[int | None] = mapped_column(Integer)
    best_lap_ms: Mapped[int | None] = mapped_column(Integer)

    session: Mapped[Session] = relationship(back_populates="results")
    entry: Mapped[Entry] = relationship()
    driver: Mapped[Competitor | None] = relationship()

    @property
    def credited(self) -> list[Competitor]:
        """The competitors this result belongs to."""
        return [self.driver] if self.driver else self.entry.competitors


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    body_markdown: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="published")
    note: Mapped[str | None] = mapped_column(Text)
    # Links as public identifiers: championship slugs, competitor slugs, "championship/number".
    championships: Mapped[list[str]] = mapped_column(JSON, default=list)
    competitors: Mapped[list[str]] = mapped_column(JSON, default=list)
    rounds: Mapped[list[str]] = mapped_column(JSON, default=list)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class SlugRedirect(Base):
    """A public identifier that moved: the old slug answers 301 to the new one for good."""

    __tablename__ = "slug_redirects"
    __table_args__ = (UniqueConstraint("entity", "old_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(40))
    old_slug: Mapped[str] = mapped_column(String(100))
    new_slug: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Change(Base):
    """One entry of the change record: what changed, before and after, when and by whom."""

    __tablename__ = "changes"
    # News feeds ask for the newest schedule changes (and results corrections) of a scope.
    __table_args__ = (
        Index("ix_changes_entity_action_championship", "entity", "action", "championship"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    entity: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300), index=True)
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Championship slug, where the entity belongs to one, so feeds can filter cheaply.
    championship: Mapped[str | None] = mapped_column(String(100), index=True)
    data_version: Mapped[int] = mapped_column(Integer)
