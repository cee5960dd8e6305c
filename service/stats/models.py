"""The subscriber-count tables: today's salt, today's hashed fetchers, and closed days."""

import datetime as dt

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..store.base import Base


class StatsSalt(Base):
    """The random salt of one UTC day. Deleted when the day is closed: after that no hash
    of that day can be recomputed from an address and user agent."""

    __tablename__ = "stats_salts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))


class FeedFetcher(Base):
    """One distinct fetcher of one feed on one (open) day: a salted hash for a person's
    reader, or ``aggregator:<name>`` with the number of subscribers it reports."""

    __tablename__ = "feed_fetchers"
    __table_args__ = (UniqueConstraint("day", "feed", "fetcher"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    feed: Mapped[str] = mapped_column(String(300))
    championship: Mapped[str | None] = mapped_column(String(100))
    fetcher: Mapped[str] = mapped_column(String(80))
    subscribers: Mapped[int] = mapped_column(Integer)


class FeedDailyCount(Base):
    """A closed day's count for one feed: what remains once the hashes are thrown away."""

    __tablename__ = "feed_daily_counts"
    __table_args__ = (UniqueConstraint("day", "feed"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    feed: Mapped[str] = mapped_column(String(300))
    championship: Mapped[str | None] = mapped_column(String(100), index=True)
    # Distinct direct fetchers (a person's app), aggregators and what they report.
    direct: Mapped[int] = mapped_column(Integer)
    aggregators: Mapped[int] = mapped_column(Integer)
    subscribers: Mapped[int] = mapped_column(Integer)
