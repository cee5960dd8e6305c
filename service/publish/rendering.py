"""Render one feed from the store: load what it shows, call the pure renderer, and wrap the
bytes with what HTTP caching and a CDN need (ETag, Last-Modified, content type, purge tags).

Only the publisher calls this (the worker, the release step, or the writing process on the
embedded default); web requests read the stored bytes instead.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from ..calendars.facts import CalendarMeta
from ..calendars.fragments import FragmentCache
from ..calendars.render import last_modified, render_calendar
from ..domain import queries
from ..domain.models import Article, Championship, Change, Competitor, Round
from ..domain.site import Site
from ..news.entries import Scope, collect_items, feed_updated
from ..news.formats import CONTENT_TYPES, FeedMeta
from ..news.formats import render as render_news
from ..store.data_version import data_state
from .feeds import CALENDAR, FeedSpec

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NEWS_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# The date in every news feed's tag: id. Part of the ids subscribers store: never change it.
FEED_ID_DATE = dt.date(2023, 1, 1)
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


def render_feed(
    session: OrmSession, spec: FeedSpec, site: Site, hub: str | None, fragments: FragmentCache
) -> Rendered | None:
    """The feed ``spec`` on ``site`` as it is now; None when its slug or round is unknown."""
    if spec.family == CALENDAR:
        return _calendar(session, spec, site, fragments)
    return _news(session, spec, site, hub)


# -- calendars ----------------------------------------------------------------------------

Loaded = tuple[CalendarMeta, Sequence[Round], Competitor | None]


def _load_calendar(session: OrmSession, spec: FeedSpec, url: str) -> Loaded | None:
    if spec.kind == "all":
        championships = queries.all_championships(session)
        meta = CalendarMeta(
            "gridfeed: all championships",
            "Every round and session of every championship on gridfeed, in each circuit's time.",
            url,
        )
        return meta, [r for c in championships for r in c.rounds], None
    assert spec.slug is not None
    if spec.kind == "championship":
        found = queries.championship_by_slug(session, spec.slug)
        if found is None:
            return None
        description = f"Every round and session of the {found.name}, in each circuit's time."
        return CalendarMeta(found.name, description, url), found.rounds, None
    if spec.kind == "competitor":
        competitor = queries.competitor_by_slug(session, spec.slug)
        if competitor is None:
            return None
        championships = queries.championships_of(session, competitor)
        description = (
            f"Every round and session of the championships {competitor.name} is entered in, "
            "with their results first."
        )
        rounds = [r for c in championships for r in c.rounds]
        return CalendarMeta(competitor.name, description, url), rounds, competitor
    assert spec.number is not None
    round_ = queries.round_by_number(session, spec.slug, spec.number)
    if round_ is None:
        return None
    name = f"{round_.championship.name}: round {spec.number}, {round_.display_name}"
    return CalendarMeta(name, f"Sessions of {name}, in the circuit's time.", url), [round_], None


def _calendar(
    session: OrmSession, spec: FeedSpec, site: Site, fragments: FragmentCache
) -> Rendered | None:
    loaded = _load_calendar(session, spec, spec.key(site.base_url))
    if loaded is None:
        return None
    meta, rounds, competitor = loaded
    body = render_calendar(meta, rounds, spec.options, site, competitor, fragments)
    slugs = sorted({r.championship.slug for r in rounds})
    scoped = None if spec.kind == "all" else slugs
    stamps = [last_modified(rounds), queries.last_change_at(session, scoped)]
    changed = max((s for s in stamps if s), default=EPOCH)
    tags = purge_tags(slugs, competitor.slug if competitor else None)
    return Rendered.of(body, CALENDAR_CONTENT_TYPE, changed, tags)


# -- news ---------------------------------------------------------------------------------


def schedule_changes(
    session: OrmSession, championships: Sequence[Championship], limit: int
) -> list[Change]:
    """The change-record entries a news feed shows: corrections, then the latest schedule
    changes of ``championships``."""
    slugs = [c.slug for c in championships]
    schedule = session.scalars(
        select(Change)
        .where(
            Change.championship.in_(slugs),
            Change.entity.in_(["session", "round"]),
            Change.action == "updated",
        )
        .order_by(Change.id.desc())
        .limit(limit)
    ).all()
    corrections = session.scalars(
        select(Change)
        .where(
            Change.championship.in_(slugs), Change.entity == "results", Change.action == "corrected"
        )
        .order_by(Change.id)
    ).all()
    return [*corrections, *schedule]


def published_articles(
    session: OrmSession, championship: str | None, competitor: str | None
) -> Sequence[Article]:
    """Published articles, newest first, about ``championship`` or ``competitor`` if given."""
    # JSON list columns are filtered in Python: portable across SQLite and PostgreSQL.
    articles = session.scalars(
        select(Article).where(Article.status == "published").order_by(Article.published_at.desc())
    ).all()
    return [
        a
        for a in articles
        if (championship is None or championship in a.championships)
        and (competitor is None or competitor in a.competitors)
    ]


def _news(session: OrmSession, spec: FeedSpec, site: Site, hub: str | None) -> Rendered | None:
    competitor: Competitor | None = None
    slug = spec.slug
    if spec.kind == "all":
        championships = queries.all_championships(session)
        scope, title, home = Scope(), "gridfeed: all news", site.url("/")
        articles = published_articles(session, None, None)
    elif spec.kind == "championship":
        assert slug is not None
        championship = queries.championship_by_slug(session, slug)
        if championship is None:
            return None
        championships = [championship]
        scope = Scope(championships=frozenset([slug]))
        title, home = f"{championship.name}: news and results", site.url(f"/championships/{slug}")
        articles = published_articles(session, slug, None)
    else:
        assert slug is not None
        competitor = queries.competitor_by_slug(session, slug)
        if competitor is None:
            return None
        championships = queries.championships_of(session, competitor)
        scope = Scope(championships=frozenset(c.slug for c in championships), competitor=slug)
        title, home = f"{competitor.name}: news and results", site.url(f"/competitors/{slug}")
        articles = published_articles(session, None, slug)
    items = collect_items(
        site=site,
        scope=scope,
        championships=championships,
        articles=articles,
        changes=schedule_changes(session, championships, spec.limit),
        competitor=competitor,
        limit=spec.limit,
    )
    state = data_state(session)
    updated = feed_updated(items, (state.changed_at if state and state.changed_at else NEWS_EPOCH))
    scope_id = "all" if spec.kind == "all" else f"{spec.kind}s/{slug}"
    self_url = spec.key(site.base_url)
    meta = FeedMeta(
        id=site.tag(FEED_ID_DATE, f"news/{scope_id}"),
        title=title,
        description=f"{title}: articles, results and schedule changes from gridfeed",
        self_url=self_url,
        home_url=home,
        hub_url=hub,
        updated=updated,
        author="gridfeed",
        format=spec.fmt,
    )
    scope_slugs = None if spec.kind == "all" else [c.slug for c in championships]
    changed = max(updated, queries.last_change_at(session, scope_slugs) or updated)
    slugs = [c.slug for c in championships]
    tags = purge_tags(slugs, competitor.slug if competitor else None)
    return Rendered.of(render_news(meta, items), CONTENT_TYPES[spec.fmt], changed, tags)
