"""Render one news feed from the store, loading only the rows it can show.

A feed shows its newest ``limit`` entries of three kinds (articles, results of sessions,
schedule changes). For each kind the store is asked for the newest ``limit`` candidates in
the feed's own order, and only those sessions (with their round, circuit, championship,
results and entries) are loaded, so a publish batch's news costs what the feeds show, never
the whole championship graph.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session as OrmSession

from ..domain import queries
from ..domain.keys import session_key
from ..domain.models import Competitor
from ..domain.site import Site
from ..news.entries import NewsItem, Scope, assemble_items, feed_updated
from ..news.formats import CONTENT_TYPES, FeedMeta
from ..news.formats import render as render_news
from ..store.data_version import data_state
from .feeds import FeedSpec

NEWS_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# The date in every news feed's tag: id. Part of the ids subscribers store: never change it.
FEED_ID_DATE = dt.date(2023, 1, 1)


class ItemsMemo(Protocol):
    """What a publish batch shares between the feeds it renders (``rendering.Snapshot``)."""

    session: OrmSession

    def news_items(
        self, key: Hashable, collect: Callable[[], list[NewsItem]]
    ) -> list[NewsItem]: ...

    def last_change_at(self, championships: Sequence[str] | None) -> dt.datetime | None: ...


@dataclass(frozen=True)
class NewsScope:
    """Who a news feed is about: its title, page and the championships it covers."""

    kind: str  # all, championship or competitor
    slug: str | None
    title: str
    home: str
    championships: tuple[str, ...]  # the slugs of every championship covered
    names: dict[str, str]  # slug to name of the covered championships (not loaded for all)
    competitor: Competitor | None = None

    @property
    def covered(self) -> list[str] | None:
        """The covered championships' slugs, or None for every championship."""
        return None if self.kind == "all" else sorted(self.championships)

    @property
    def scope(self) -> Scope:
        """Which entries the feed carries."""
        if self.kind == "all":
            return Scope()
        return Scope(frozenset(self.championships), self.slug if self.competitor else None)


@dataclass(frozen=True)
class NewsFeed:
    """A rendered news feed: bytes, content type, Last-Modified and what it covers."""

    body: bytes
    content_type: str
    last_modified: dt.datetime
    championships: list[str]
    competitor: str | None


def news_scope(session: OrmSession, spec: FeedSpec, site: Site) -> NewsScope | None:
    """The scope of a news feed, or None when its championship or competitor is unknown."""
    slug = spec.slug
    if spec.kind == "all":
        everything = tuple(queries.championship_slugs(session))
        return NewsScope("all", None, "gridfeed: all news", site.url("/"), everything, {})
    assert slug is not None
    if spec.kind == "championship":
        name = queries.championship_name(session, slug)
        if name is None:
            return None
        title, home = f"{name}: news and results", site.url(f"/championships/{slug}")
        return NewsScope("championship", slug, title, home, (slug,), {slug: name})
    competitor = queries.competitor_by_slug(session, slug)
    if competitor is None:
        return None
    names = queries.entered_championships(session, competitor)
    title, home = f"{competitor.name}: news and results", site.url(f"/competitors/{slug}")
    return NewsScope("competitor", slug, title, home, tuple(names), names, competitor)


def news_items(session: OrmSession, scope: NewsScope, site: Site, limit: int) -> list[NewsItem]:
    """The newest ``limit`` entries of a feed, loading only their candidates."""
    competitor = scope.competitor
    slugs = list(scope.championships)
    articles = queries.newest_articles(
        session,
        limit,
        championship=scope.slug if scope.kind == "championship" else None,
        competitor=scope.slug if competitor else None,
    )
    ids = queries.newest_results_sessions(session, limit, scope.covered, competitor)
    sessions = queries.sessions_for_news(session, ids)
    keys = [session_key(s.round.championship.slug, s.round.number, s.slug) for s in sessions]
    changes = queries.schedule_changes(session, slugs, limit)
    names = dict(scope.names)
    if scope.kind == "all":
        # Articles name championships by slug: the feed of everything shows the names of
        # every championship, so look up those its articles name.
        mentioned = sorted({c for a in articles for c in a.championships})
        names = queries.names_by_slug(session, mentioned, [])[0]
    if competitor is not None:
        names[competitor.slug] = competitor.name
    return assemble_items(
        site=site,
        scope=scope.scope,
        names=names,
        articles=articles,
        sessions=sessions,
        corrections=queries.corrections_of(session, keys, slugs),
        changes=changes,
        objects=queries.schedule_objects(session, changes, slugs),
        competitor=competitor,
        limit=limit,
    )


def render_news_feed(
    memo: ItemsMemo, spec: FeedSpec, site: Site, hub: str | None
) -> NewsFeed | None:
    """The news feed ``spec`` on ``site`` as it is now; None when its scope is unknown."""
    session = memo.session
    scope = news_scope(session, spec, site)
    if scope is None:
        return None
    # RSS, Atom and JSON Feed of one scope show the same items: collect them once per batch.
    items = memo.news_items(
        (spec.kind, spec.slug, spec.limit, site),
        lambda: news_items(session, scope, site, spec.limit),
    )
    state = data_state(session)
    updated = feed_updated(items, (state.changed_at if state and state.changed_at else NEWS_EPOCH))
    scope_id = "all" if spec.kind == "all" else f"{spec.kind}s/{spec.slug}"
    meta = FeedMeta(
        id=site.tag(FEED_ID_DATE, f"news/{scope_id}"),
        title=scope.title,
        description=f"{scope.title}: articles, results and schedule changes from gridfeed",
        self_url=spec.key(site.base_url),
        home_url=scope.home,
        hub_url=hub,
        updated=updated,
        author="gridfeed",
        format=spec.fmt,
    )
    changed = max(updated, memo.last_change_at(scope.covered) or updated)
    return NewsFeed(
        render_news(meta, items),
        CONTENT_TYPES[spec.fmt],
        changed,
        list(scope.championships),
        scope.slug if scope.competitor else None,
    )
