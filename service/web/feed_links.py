"""The public feed URLs of each scope (everything, a championship, a competitor).

These URLs are permanent: websites embed them and calendar apps keep them for years.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

GOOGLE_ADD = "https://calendar.google.com/calendar/render?cid={url}"
OUTLOOK_ADD = "https://outlook.live.com/calendar/0/addfromweb?url={url}&name={name}"


@dataclass(frozen=True)
class SubscribeLinks:
    """The ways to subscribe to one calendar URL, from calendar apps and the web."""

    https: str
    webcal: str
    google: str
    outlook: str


@dataclass(frozen=True)
class FeedLink:
    """One feed a page offers: what it is, its path and its media type."""

    label: str
    path: str
    media_type: str

    def subscribe(self, base_url: str, name: str = "gridfeed") -> SubscribeLinks | None:
        """Subscribe links for a calendar feed (None for other feeds), from the site's base."""
        if self.media_type != "text/calendar":
            return None
        return subscribe_links(base_url.rstrip("/") + self.path, name)


def subscribe_links(url: str, name: str) -> SubscribeLinks:
    """``webcal://``, Google's and Outlook.com's add links, and the plain URL of a calendar.

    Google takes the https URL in ``cid`` and caches per URL, so a filtered feed (its options
    in the query) is a separate subscription there, as it should be.
    """
    parts = urlsplit(url)
    webcal = urlunsplit(("webcal", *parts[1:]))
    encoded = quote(url, safe="")
    return SubscribeLinks(
        https=url,
        webcal=webcal,
        google=GOOGLE_ADD.format(url=encoded),
        outlook=OUTLOOK_ADD.format(url=encoded, name=quote(name, safe="")),
    )


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
