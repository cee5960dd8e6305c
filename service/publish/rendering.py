"""Render one feed from the store: load what it shows, call the pure renderer, and wrap the
bytes with what HTTP caching and a CDN need (ETag, Last-Modified, content type, purge tags).

Only the publisher calls this (the worker, the release step, or the writing process on the
embedded default); web requests read the stored bytes instead.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session as OrmSession

from ..calendars.facts import CalendarMeta, CalendarOptions, FactsMemo, current_and_next
from ..calendars.fragments import FragmentCache
from ..calendars.render import last_modified, render_calendar
from ..domain import queries
from ..domain.models import Article, Championship, Competitor, Round
from ..domain.site import Site
from ..domain.timesheet import slugify
from ..news.entries import NewsItem
from .facts_memo import FactsCache, binder
from .feeds import CALENDAR, FeedSpec
from .news_rendering import render_news_feed

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
GZIP_LEVEL = 9  # compressed once per change, served many times: spend the CPU once


@dataclass(frozen=True)
class Rendered:
    """A feed's bytes ready to store and serve, with what HTTP caching and a CDN need."""

    body: bytes
    content_type: str
    last_modified: dt.datetime
    etag: str
    tags: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        body: bytes,
        content_type: str,
        last_modified: dt.datetime,
        tags: Sequence[str] = (),
    ) -> Rendered:
        """Wrap rendered bytes, computing a strong ETag from their content."""
        digest = hashlib.sha256(body).hexdigest()[:32]
        return cls(body, content_type, last_modified, digest, tuple(tags))


def compress(body: bytes) -> bytes:
    """The gzip copy of ``body``, with no file name or time in its header (reproducible)."""
    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def purge_tags(championships: Sequence[str], competitor: str | None = None) -> list[str]:
    """CDN purge tags: ``feeds``, one per championship shown and the competitor's own."""
    tags = ["feeds", *(f"championship-{slug}" for slug in sorted(set(championships)))]
    if competitor:
        tags.append(f"competitor-{competitor}")
    return tags


class Snapshot:
    """The store as one publish batch sees it: the championship graph and the articles are
    loaded once, on first use, and shared by every feed the batch renders."""

    def __init__(self, session: OrmSession, facts: FactsCache | None = None) -> None:
        self.session = session
        self._championships: Sequence[Championship] | None = None
        self._articles: Sequence[Article] | None = None
        self._facts = facts
        self._news: dict[Hashable, list[NewsItem]] = {}
        self._bind: Callable[[CalendarOptions, Site, Competitor | None], FactsMemo] | None = None

    def news_items(self, key: Hashable, collect: Callable[[], list[NewsItem]]) -> list[NewsItem]:
        """The news items of one scope, collected once per batch for every format."""
        if key not in self._news:
            self._news[key] = collect()
        return self._news[key]

    def facts_memo(
        self, options: CalendarOptions, site: Site, competitor: Competitor | None
    ) -> FactsMemo | None:
        """The memo ``feed_facts`` consults for one calendar (None without a facts cache)."""
        if self._facts is None:
            return None
        if self._bind is None:
            self._bind = binder(self._facts, queries.change_epochs(self.session))
        return self._bind(options, site, competitor)

    def championships(self) -> Sequence[Championship]:
        """Every championship, with its whole graph loaded."""
        if self._championships is None:
            self._championships = queries.all_championships(self.session)
        return self._championships

    def championship(self, slug: str) -> Championship | None:
        """One championship of the snapshot, or None."""
        return next((c for c in self.championships() if c.slug == slug), None)

    def competitor(self, slug: str) -> Competitor | None:
        """A competitor (the same object the loaded graph holds), or None."""
        return queries.competitor_by_slug(self.session, slug)

    def championships_of(self, competitor: Competitor) -> list[Championship]:
        """The championships ``competitor`` is entered in, in the usual order."""
        return [
            c
            for c in self.championships()
            if any(link.competitor_id == competitor.id for e in c.entries for link in e.drivers)
        ]

    def articles(self, championship: str | None, competitor: str | None) -> list[Article]:
        """Published articles, newest first, about ``championship`` or ``competitor``."""
        if self._articles is None:
            self._articles = queries.published_articles(self.session)
        return [
            a
            for a in self._articles
            if (championship is None or championship in a.championships)
            and (competitor is None or competitor in a.competitors)
        ]


def render_feed(
    snapshot: Snapshot, spec: FeedSpec, site: Site, hub: str | None, fragments: FragmentCache
) -> Rendered | None:
    """The feed ``spec`` on ``site`` as it is now; None when its slug or round is unknown."""
    if spec.family == CALENDAR:
        return _calendar(snapshot, spec, site, fragments)
    return _news(snapshot, spec, site, hub)


# -- calendars ----------------------------------------------------------------------------

Loaded = tuple[CalendarMeta, Sequence[Round], Competitor | None]


def _load_calendar(snapshot: Snapshot, spec: FeedSpec, url: str) -> Loaded | None:
    if spec.kind == "all":
        championships = snapshot.championships()
        meta = CalendarMeta(
            "gridfeed: all championships",
            "Every round and session of every championship on gridfeed, in each circuit's time.",
            url,
        )
        return meta, [r for c in championships for r in c.rounds], None
    assert spec.slug is not None
    if spec.kind == "championship":
        found = snapshot.championship(spec.slug)
        if found is None:
            return None
        description = f"Every round and session of the {found.name}, in each circuit's time."
        return CalendarMeta(found.name, description, url), found.rounds, None
    if spec.kind == "competitor":
        competitor = snapshot.competitor(spec.slug)
        if competitor is None:
            return None
        championships = snapshot.championships_of(competitor)
        description = (
            f"Every round and session of the championships {competitor.name} is entered in, "
            "with their results first."
        )
        rounds = [r for c in championships for r in c.rounds]
        return CalendarMeta(competitor.name, description, url), rounds, competitor
    if spec.kind == "series":
        seasons = [c for c in snapshot.championships() if slugify(c.series) == spec.slug]
        if not seasons:
            return None
        seasons.sort(key=lambda c: (c.season, c.slug))
        # The seasons shown move on at New Year with no data change: the publication
        # fingerprint holds the year, so the first start or release of a year republishes.
        shown = current_and_next(seasons, dt.datetime.now(dt.UTC).year)
        name = f"{seasons[-1].series}: current and next season"
        description = (
            f"Every round and session of the {seasons[-1].series}, "
            f"{' and '.join(str(c.season) for c in shown)}, in each circuit's time."
        )
        return CalendarMeta(name, description, url), [r for c in shown for r in c.rounds], None
    assert spec.number is not None
    championship = snapshot.championship(spec.slug)
    round_ = None
    if championship is not None:
        round_ = next((r for r in championship.rounds if r.number == spec.number), None)
    if round_ is None:
        return None
    name = f"{round_.championship.name}: round {spec.number}, {round_.display_name}"
    return CalendarMeta(name, f"Sessions of {name}, in the circuit's time.", url), [round_], None


def _calendar(
    snapshot: Snapshot, spec: FeedSpec, site: Site, fragments: FragmentCache
) -> Rendered | None:
    session = snapshot.session
    loaded = _load_calendar(snapshot, spec, spec.key(site.base_url))
    if loaded is None:
        return None
    meta, rounds, competitor = loaded
    memo = snapshot.facts_memo(spec.options, site, competitor)
    body = render_calendar(meta, rounds, spec.options, site, competitor, fragments, memo=memo)
    slugs = sorted({r.championship.slug for r in rounds})
    scoped = None if spec.kind == "all" else slugs
    stamps = [last_modified(rounds), queries.last_change_at(session, scoped)]
    changed = max((s for s in stamps if s), default=EPOCH)
    tags = purge_tags(slugs, competitor.slug if competitor else None)
    return Rendered.of(body, CALENDAR_CONTENT_TYPE, changed, tags)


# -- news ---------------------------------------------------------------------------------


def _news(snapshot: Snapshot, spec: FeedSpec, site: Site, hub: str | None) -> Rendered | None:
    made = render_news_feed(snapshot, spec, site, hub)
    if made is None:
        return None
    tags = purge_tags(made.championships, made.competitor)
    return Rendered.of(made.body, made.content_type, made.last_modified, tags)
