"""The public feed URLs of each scope (everything, a championship, a competitor).

These URLs are permanent: websites embed them and calendar apps keep them for years.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeedLink:
    """One feed a page offers: what it is, its path and its media type."""

    label: str
    path: str
    media_type: str

    @property
    def is_calendar(self) -> bool:
        """Whether this is an iCal feed (the subscribe panel's business)."""
        return self.media_type == "text/calendar"


NEWS_FORMATS = (
    ("RSS", "news.rss", "application/rss+xml"),
    ("Atom", "news.atom", "application/atom+xml"),
    ("JSON Feed", "news.json", "application/feed+json"),
)


def scope_prefix(kind: str | None = None, slug: str | None = None) -> str:
    """``""`` for everything, else ``/championships/<slug>`` or ``/competitors/<slug>``."""
    if kind is None:
        return ""
    return f"/{kind}/{slug}"


def calendar_link(kind: str | None = None, slug: str | None = None) -> FeedLink:
    """The iCal feed of a scope."""
    return FeedLink("Calendar (iCal)", f"{scope_prefix(kind, slug)}/calendar.ics", "text/calendar")


def news_links(kind: str | None = None, slug: str | None = None) -> list[FeedLink]:
    """The news feeds (RSS, Atom, JSON Feed) of a scope."""
    prefix = scope_prefix(kind, slug)
    return [
        FeedLink(f"News ({label})", f"{prefix}/{name}", media)
        for label, name, media in NEWS_FORMATS
    ]


def feed_links(kind: str | None = None, slug: str | None = None) -> list[FeedLink]:
    """Every feed of a scope: the calendar first, then the news feeds."""
    return [calendar_link(kind, slug), *news_links(kind, slug)]


def round_calendar_link(slug: str, number: int) -> FeedLink:
    """The iCal feed of one round of a championship."""
    return FeedLink(
        "Calendar (iCal)", f"/championships/{slug}/rounds/{number}.ics", "text/calendar"
    )
