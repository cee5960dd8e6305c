"""Reading subscriber counts: closed days from ``feed_daily_counts``, today live from the
hashed fetchers, for the API and ``flask stats``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from .daily import summarise
from .models import FeedDailyCount, FeedFetcher


@dataclass(frozen=True)
class FeedDay:
    """One feed on one day: direct fetchers, aggregators and what they report."""

    day: dt.date
    feed: str
    championship: str | None
    direct: int
    aggregators: int
    subscribers: int

    @property
    def total(self) -> int:
        """Subscribers: people fetching themselves plus those aggregators report (an
        aggregator reporting no number counts as one)."""
        return self.direct + self.subscribers

    def as_dict(self) -> dict[str, object]:
        """The API's view of the row."""
        return {
            "day": self.day.isoformat(),
            "feed": self.feed,
            "championship": self.championship,
            "direct": self.direct,
            "aggregators": self.aggregators,
            "aggregator_subscribers": self.subscribers,
            "total": self.total,
        }


def feed_days(
    session: OrmSession, start: dt.date, end: dt.date, championship: str | None = None
) -> list[FeedDay]:
    """Every feed-day from ``start`` to ``end`` (inclusive), newest first, then by feed."""
    closed = select(FeedDailyCount).where(FeedDailyCount.day.between(start, end))
    live = select(
        FeedFetcher.day,
        FeedFetcher.feed,
        FeedFetcher.championship,
        FeedFetcher.fetcher,
        FeedFetcher.subscribers,
    ).where(FeedFetcher.day.between(start, end))
    if championship is not None:
        closed = closed.where(FeedDailyCount.championship == championship)
        live = live.where(FeedFetcher.championship == championship)
    days = {
        (row.day, row.feed): FeedDay(
            row.day, row.feed, row.championship, row.direct, row.aggregators, row.subscribers
        )
        for row in session.scalars(closed)
    }
    for (day, feed), count in summarise(session.execute(live).all()).items():
        earlier = days.get((day, feed))
        days[(day, feed)] = FeedDay(
            day,
            feed,
            count["championship"],  # type: ignore[arg-type]
            count["direct"] + (earlier.direct if earlier else 0),  # type: ignore[operator]
            count["aggregators"],  # type: ignore[arg-type]
            count["subscribers"],  # type: ignore[arg-type]
        )
    return sorted(days.values(), key=lambda d: (-d.day.toordinal(), d.feed))
