"""Which feeds exist and how each is named: a ``FeedSpec`` per feed URL, its canonical key
(the absolute URL in its ``rel="self"``) and its scope, and the reverse (key → spec).

The key is the canonical absolute URL: origin, path and the options in one canonical order,
so every spelling of the same request finds the same stored bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from ..calendars.facts import CalendarOptions

CALENDAR = "calendar"
NEWS = "news"
NEWS_FORMATS = ("rss", "atom", "json")
DEFAULT_NEWS_LIMIT = 50

_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"/calendar\.ics"), CALENDAR, "all"),
    (re.compile(r"/championships/(?P<slug>[^/]+)/calendar\.ics"), CALENDAR, "championship"),
    (re.compile(r"/competitors/(?P<slug>[^/]+)/calendar\.ics"), CALENDAR, "competitor"),
    (
        re.compile(r"/championships/(?P<slug>[^/]+)/rounds/(?P<number>\d+)\.ics"),
        CALENDAR,
        "round",
    ),
    (re.compile(r"/series/(?P<slug>[^/]+)/calendar\.ics"), CALENDAR, "series"),
    (re.compile(r"/news\.(?P<fmt>rss|atom|json)"), NEWS, "all"),
    (
        re.compile(r"/championships/(?P<slug>[^/]+)/news\.(?P<fmt>rss|atom|json)"),
        NEWS,
        "championship",
    ),
    (re.compile(r"/competitors/(?P<slug>[^/]+)/news\.(?P<fmt>rss|atom|json)"), NEWS, "competitor"),
]


@dataclass(frozen=True)
class FeedSpec:
    """One feed: its family (calendar or news), scope kind, slug, round and options."""

    family: str
    kind: str  # all, championship, competitor, round, series
    slug: str | None = None
    number: int | None = None
    fmt: str = "ics"
    options: CalendarOptions = field(default_factory=CalendarOptions)
    limit: int = DEFAULT_NEWS_LIMIT

    @property
    def path(self) -> str:
        """The URL path of the feed."""
        if self.family == CALENDAR:
            if self.kind == "all":
                return "/calendar.ics"
            if self.kind == "round":
                return f"/championships/{self.slug}/rounds/{self.number}.ics"
            if self.kind == "series":
                return f"/series/{self.slug}/calendar.ics"
            return f"/{self.kind}s/{self.slug}/calendar.ics"
        prefix = "" if self.kind == "all" else f"/{self.kind}s/{self.slug}"
        return f"{prefix}/news.{self.fmt}"

    @property
    def query(self) -> str:
        """The canonical query string ("" for the default feed)."""
        if self.family == NEWS:
            return "" if self.limit == DEFAULT_NEWS_LIMIT else f"limit={self.limit}"
        return self.options.query

    @property
    def scope(self) -> str:
        """What a change republishes: every variant of one feed URL shares its scope."""
        parts = [self.family, self.kind, self.slug or "", str(self.number or ""), self.fmt]
        return ":".join(parts)

    @property
    def is_default(self) -> bool:
        """Whether this is the feed without options (published up front)."""
        return self.query == ""

    def key(self, origin: str) -> str:
        """The canonical absolute URL of this feed on ``origin`` (its ``rel="self"``)."""
        query = self.query
        return origin + self.path + (f"?{query}" if query else "")

    @property
    def filename(self) -> str | None:
        """The download name a calendar is offered under."""
        if self.family != CALENDAR:
            return None
        if self.kind == "all":
            return "gridfeed.ics"
        if self.kind == "round":
            return f"{self.slug}-round-{self.number}.ics"
        return f"{self.slug}.ics"


def spec_for_path(path: str) -> FeedSpec | None:
    """The default feed at ``path``, or None when the path is no feed URL."""
    for pattern, family, kind in _PATTERNS:
        match = pattern.fullmatch(path)
        if match:
            found = match.groupdict()
            number = int(found["number"]) if found.get("number") else None
            fmt = found.get("fmt") or "ics"
            return FeedSpec(family, kind, found.get("slug"), number, fmt)
    return None


def spec_for_key(key: str) -> tuple[str, FeedSpec] | None:
    """The origin and feed of a stored key (a canonical URL written by ``FeedSpec.key``)."""
    parts = urlsplit(key)
    spec = spec_for_path(parts.path)
    if spec is None:
        return None
    origin = f"{parts.scheme}://{parts.netloc}"
    if not parts.query:
        return origin, spec
    values: dict[str, list[str]] = {}
    for pair in parts.query.split("&"):
        name, _, value = pair.partition("=")
        values.setdefault(name, []).append(value)
    if spec.family == NEWS:
        return origin, replace(spec, limit=int(values["limit"][0]))
    include = frozenset(values["include"]) if "include" in values else None
    options = CalendarOptions(
        include=include,
        exclude=frozenset(values.get("exclude", ())),
        alarms=tuple(int(m) for m in values.get("alarm", ())),
        utc="tz" in values,
    )
    return origin, replace(spec, options=options)
